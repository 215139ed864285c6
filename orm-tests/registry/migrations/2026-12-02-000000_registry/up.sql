-- A slice of a package registry's schema, as its own migrations leave it on
-- PostgreSQL: VARCHAR text, database defaults, a search vector and counters
-- kept by triggers, a three-column key, foreign keys with the actions the
-- application chose (NO ACTION where it said nothing).

CREATE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    gh_access_token VARCHAR NOT NULL,
    gh_login VARCHAR NOT NULL,
    name VARCHAR,
    gh_avatar VARCHAR,
    gh_id INTEGER NOT NULL UNIQUE
);

CREATE TABLE teams (
    id SERIAL PRIMARY KEY,
    login VARCHAR NOT NULL UNIQUE,
    github_id INTEGER NOT NULL UNIQUE,
    name VARCHAR,
    avatar VARCHAR
);

CREATE TABLE crates (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    updated_at TIMESTAMP NOT NULL DEFAULT now(),
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    downloads INTEGER NOT NULL DEFAULT 0,
    description VARCHAR,
    homepage VARCHAR,
    documentation VARCHAR,
    repository VARCHAR,
    textsearchable_index_col TSVECTOR NOT NULL,
    max_upload_size INTEGER
);

CREATE FUNCTION crates_search_vector() RETURNS trigger AS $$
BEGIN
    NEW.textsearchable_index_col :=
        setweight(to_tsvector('pg_catalog.english', coalesce(NEW.name, '')), 'A') ||
        setweight(to_tsvector('pg_catalog.english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER crates_search_vector BEFORE INSERT OR UPDATE ON crates
    FOR EACH ROW EXECUTE PROCEDURE crates_search_vector();
CREATE TRIGGER crates_updated_at BEFORE UPDATE ON crates
    FOR EACH ROW EXECUTE PROCEDURE set_updated_at();
CREATE INDEX crates_search ON crates USING gin (textsearchable_index_col);

CREATE TABLE versions (
    id SERIAL PRIMARY KEY,
    crate_id INTEGER NOT NULL REFERENCES crates (id) ON DELETE CASCADE,
    num VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL DEFAULT now(),
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    downloads INTEGER NOT NULL DEFAULT 0,
    features JSONB NOT NULL DEFAULT '{}',
    yanked BOOLEAN NOT NULL DEFAULT FALSE,
    license VARCHAR,
    crate_size INTEGER,
    published_by INTEGER REFERENCES users (id),
    UNIQUE (crate_id, num)
);
CREATE TRIGGER versions_updated_at BEFORE UPDATE ON versions
    FOR EACH ROW EXECUTE PROCEDURE set_updated_at();

CREATE TABLE keywords (
    id SERIAL PRIMARY KEY,
    keyword VARCHAR NOT NULL UNIQUE,
    crates_cnt INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    id SERIAL PRIMARY KEY,
    category VARCHAR NOT NULL UNIQUE,
    slug VARCHAR NOT NULL UNIQUE,
    description VARCHAR NOT NULL DEFAULT '',
    crates_cnt INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT now()
);

CREATE TABLE crates_keywords (
    crate_id INTEGER NOT NULL REFERENCES crates (id) ON DELETE CASCADE,
    keyword_id INTEGER NOT NULL REFERENCES keywords (id),
    PRIMARY KEY (crate_id, keyword_id)
);

CREATE TABLE crates_categories (
    crate_id INTEGER NOT NULL REFERENCES crates (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (crate_id, category_id)
);

-- Each keyword's and category's count of crates, kept by the database.
CREATE FUNCTION count_crates() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'crates_keywords' THEN
        IF TG_OP = 'INSERT' THEN
            UPDATE keywords SET crates_cnt = crates_cnt + 1 WHERE id = NEW.keyword_id;
        ELSE
            UPDATE keywords SET crates_cnt = crates_cnt - 1 WHERE id = OLD.keyword_id;
        END IF;
    ELSE
        IF TG_OP = 'INSERT' THEN
            UPDATE categories SET crates_cnt = crates_cnt + 1 WHERE id = NEW.category_id;
        ELSE
            UPDATE categories SET crates_cnt = crates_cnt - 1 WHERE id = OLD.category_id;
        END IF;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER crates_keywords_count AFTER INSERT OR DELETE ON crates_keywords
    FOR EACH ROW EXECUTE PROCEDURE count_crates();
CREATE TRIGGER crates_categories_count AFTER INSERT OR DELETE ON crates_categories
    FOR EACH ROW EXECUTE PROCEDURE count_crates();

-- An owner is a user (kind 0) or a team (kind 1): no foreign key on it.
CREATE TABLE crate_owners (
    crate_id INTEGER NOT NULL REFERENCES crates (id) ON DELETE CASCADE,
    owner_id INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT now(),
    created_by INTEGER REFERENCES users (id),
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL DEFAULT now(),
    owner_kind INTEGER NOT NULL,
    PRIMARY KEY (crate_id, owner_id, owner_kind)
);

CREATE TABLE dependencies (
    id SERIAL PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    crate_id INTEGER NOT NULL REFERENCES crates (id) ON DELETE CASCADE,
    req VARCHAR NOT NULL,
    optional BOOLEAN NOT NULL,
    default_features BOOLEAN NOT NULL,
    features TEXT[] NOT NULL,
    target VARCHAR,
    kind INTEGER NOT NULL DEFAULT 0
);
