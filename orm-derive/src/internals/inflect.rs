//! Names: plurals, singulars and case conversions.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// `Person` → `people`, `Category` → `categories`, `UserProject` → `user_projects`.
pub fn table_name(struct_name: &str) -> String {
    plural(&struct_name.to_snake_case())
}

/// The plural of the last word of a snake_case name.
pub fn plural(snake: &str) -> String {
    map_last_word(snake, |w| pluralizer::pluralize(w, 2, false))
}

/// The singular of the last word of a snake_case name.
pub fn singular(snake: &str) -> String {
    map_last_word(snake, |w| pluralizer::pluralize(w, 1, false))
}

fn map_last_word(snake: &str, f: impl Fn(&str) -> String) -> String {
    match snake.rsplit_once('_') {
        Some((head, last)) => format!("{head}_{}", f(last)),
        None => f(snake),
    }
}

/// `Guests` → `guests`.
pub fn snake(name: &str) -> String {
    name.to_snake_case()
}

/// `rsvps` → `Rsvp`: the row struct of a join table.
pub fn row_struct(table: &str) -> String {
    singular(table).to_upper_camel_case()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_snake_case_plurals() {
        assert_eq!(table_name("Person"), "people");
        assert_eq!(table_name("Category"), "categories");
        assert_eq!(table_name("UserProject"), "user_projects");
        assert_eq!(table_name("Event"), "events");
    }

    #[test]
    fn singulars() {
        assert_eq!(singular("guests"), "guest");
        assert_eq!(singular("followers"), "follower");
        assert_eq!(singular("follows"), "follow");
        assert_eq!(singular("children"), "child");
        assert_eq!(row_struct("rsvps"), "Rsvp");
    }
}
