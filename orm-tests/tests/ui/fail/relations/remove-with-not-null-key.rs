use orm_core::prelude::*;

#[derive(Model)]
#[has_many(Comment)]
pub struct Article { pub id: i32 }

#[derive(Model)]
pub struct Comment { pub id: i32, pub article_id: i32 }

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    let article = Article { id: 1 };
    let comment = Comment { id: 1, article_id: 1 };
    let _ = article.remove_comment(&comment, &mut conn);
}
