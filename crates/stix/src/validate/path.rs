//! JSON paths of properties (`external_references[1].url`), built only when an
//! error needs one.

use std::fmt::Write;

/// A path as a chain of stack frames: no allocation until rendered.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl<'a> Path<'a> {
    pub fn key(&'a self, k: &'a str) -> Path<'a> {
        Path::Key(self, k)
    }

    pub fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }

    pub fn render(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn write(&self, s: &mut String) {
        match self {
            Path::Root => {}
            Path::Key(p, k) => {
                p.write(s);
                push_key(s, k);
            }
            Path::Index(p, i) => {
                p.write(s);
                push_index(s, *i);
            }
        }
    }
}

/// Appends `.key` (or `key` at the start).
pub(crate) fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Appends `[i]`.
pub(crate) fn push_index(path: &mut String, i: usize) {
    let _ = write!(path, "[{i}]");
}
