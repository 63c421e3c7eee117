//! Generic page pieces: a searchable paginated table, a form, and a detail sheet. Every area
//! builds its pages from these, so lists and forms look and behave alike everywhere.

use askama::Template;

use super::{Layout, Pager};

/// One form control.
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    /// text | number | password | date | select | textarea | checkbox | tel | search
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub hint: &'static str,
    pub error: Option<String>,
    pub required: bool,
}

impl Field {
    pub fn text(name: &'static str, label: &'static str, value: impl Into<String>) -> Field {
        Field {
            name,
            label,
            kind: "text",
            value: value.into(),
            options: vec![],
            hint: "",
            error: None,
            required: false,
        }
    }
    pub fn kind(mut self, kind: &'static str) -> Field {
        self.kind = kind;
        self
    }
    pub fn select(mut self, options: Vec<(String, String)>) -> Field {
        self.kind = "select";
        self.options = options;
        self
    }
    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = hint;
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn checked(&self) -> bool {
        matches!(self.value.as_str(), "on" | "true" | "1")
    }
}

/// Put a validation error on its field; an error for an unknown field goes on top.
pub fn attach_error(fields: &mut [Field], field: &str, message: String) -> Option<String> {
    match fields.iter_mut().find(|f| f.name == field) {
        Some(f) => {
            f.error = Some(message);
            None
        }
        None => Some(message),
    }
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub layout: Layout,
    pub heading: String,
    pub crumbs: Vec<(String, String)>,
    pub intro: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub error: Option<String>,
    pub submit: &'static str,
    pub cancel: String,
    pub confirm: Option<String>,
}

pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub class: &'static str,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: None,
            class: "",
        }
    }
    pub fn link(text: impl Into<String>, href: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            href: Some(href.into()),
            class: "",
        }
    }
    pub fn class(mut self, class: &'static str) -> Cell {
        self.class = class;
        self
    }
}

#[derive(Template)]
#[template(path = "list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub heading: String,
    pub intro: String,
    pub new_link: Option<(String, String)>,
    pub filters: Vec<Field>,
    pub filter_action: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub pager: Pager,
    pub base: String,
    pub empty: &'static str,
    pub printable: bool,
}

/// A button that posts to `action`, optionally asking for confirmation first.
pub struct ActionButton {
    pub action: String,
    pub label: &'static str,
    pub danger: bool,
    pub confirm: Option<String>,
    pub hidden: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub heading: String,
    pub crumbs: Vec<(String, String)>,
    pub props: Vec<(&'static str, String)>,
    pub links: Vec<(String, String)>,
    pub buttons: Vec<ActionButton>,
    pub sections: Vec<(String, Vec<&'static str>, Vec<Vec<Cell>>)>,
}
