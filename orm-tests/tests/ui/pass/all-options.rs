//! Every option, compiled under the strictest lints a user crate may use.
#![deny(warnings, missing_docs, unused_qualifications)]

use orm_core::prelude::*;

/// A tag.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "labels")]
pub struct Tag {
    /// Key.
    pub id: i64,
    /// Name.
    #[model(sql_type = orm_core::diesel::sql_types::Text)]
    pub name: String,
    /// Weight.
    pub weight: Option<f64>,
    /// Raw bytes.
    pub data: Vec<u8>,
    /// Flag.
    pub hidden: bool,
    /// Small.
    pub rank: i16,
    /// Float.
    pub score: f32,
}

/// A country keyed by code.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_many(City, as = "Cities", singular = "town", foreign_key = "country_code")]
pub struct Country {
    /// Key.
    #[model(primary_key)]
    pub code: String,
}

/// A city.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "cities")]
#[belongs_to(Country, foreign_key = "country_code", as = "Nation")]
#[belongs_to_many(Tag, through = "city_labels", foreign_key = "place_id", other_key = "label_id", as = "Labels", timestamps)]
#[belongs_to_many(Tag, through = Listing, as = "Listed", singular = "listing")]
pub struct City {
    /// Key.
    pub id: i32,
    /// Country.
    pub country_code: Option<String>,
}

/// A city's listing under a tag: a join model with payload and timestamps.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(primary_key(city_id, tag_id), timestamps)]
pub struct Listing {
    /// City.
    pub city_id: i32,
    /// Tag.
    pub tag_id: i64,
    /// Note.
    pub note: Option<String>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

/// A node in a tree.
#[derive(Model, Debug, Clone, PartialEq)]
#[has_one(Node, as = "FirstChild", foreign_key = "parent_id")]
#[has_many(Node, as = "Children", foreign_key = "parent_id")]
#[belongs_to(Node, as = "Parent")]
pub struct Node {
    /// Key.
    pub id: i32,
    /// Parent.
    pub parent_id: Option<i32>,
}

fn main() {
    let mut conn = orm_core::sqlite::memory().unwrap();
    Schema::new()
        .model::<Tag>()
        .model::<Country>()
        .model::<City>()
        .model::<Node>()
        .model::<Listing>()
        .create_all(&mut conn)
        .unwrap();
    let france = Country::create(NewCountry { code: "FR".into() }, &mut conn).unwrap();
    let mut paris = City::create(NewCity { country_code: None }, &mut conn).unwrap();
    paris.set_nation(&france, &mut conn).unwrap();
    assert_eq!(france.count_cities(&mut conn).unwrap(), 1);
    assert!(france.has_town(&paris, &mut conn).unwrap());
    let tag = paris
        .create_label(
            NewTag { name: "capital".into(), weight: None, data: vec![1], hidden: false, rank: 1, score: 0.5 },
            &mut conn,
        )
        .unwrap();
    assert_eq!(paris.labels(&mut conn).unwrap(), vec![tag.clone()]);
    let labels: Vec<CityLabel> = city_labels::table.load(&mut conn).unwrap();
    assert_eq!(labels[0].created_at, labels[0].updated_at);
    paris.add_listing(&tag, &mut conn).unwrap();
    let note = ListingPayload { note: Some("big".into()) };
    paris.add_listing_with(&tag, note, &mut conn).unwrap();
    let listed: Vec<(Tag, Listing)> = paris.listed_with_through(&mut conn).unwrap();
    assert_eq!(listed[0].1.note.as_deref(), Some("big"));
    let root = Node::create(NewNode { parent_id: None }, &mut conn).unwrap();
    root.create_child(NewNode { parent_id: None }, &mut conn).unwrap();
    assert_eq!(root.count_children(&mut conn).unwrap(), 1);
}
