DROP TABLE dependencies, crate_owners, crates_categories, crates_keywords, categories,
    keywords, versions, crates, teams, users;
DROP FUNCTION count_crates, crates_search_vector, set_updated_at;
