use orm_core::prelude::*;

#[derive(Model)]
#[belongs_to_many(
    Tag,
    through = Tagging,
    as = "RecentTags",
    through_scope = taggings::added_on.is_not_null()
)]
pub struct Post { pub id: i32 }

#[derive(Model)]
pub struct Tag { pub id: i32 }

#[derive(Model)]
#[model(primary_key(post_id, tag_id))]
pub struct Tagging { pub post_id: i32, pub tag_id: i32, pub added_on: Option<String> }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let (post, tag) = (Post { id: 1 }, Tag { id: 1 });
    let _ = post.recent_tags(&mut conn);
    let _ = post.add_recent_tag(&tag, &mut conn);
}
