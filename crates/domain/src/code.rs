//! 编码: the closed sets of values (states, kinds, statuses) that the schema stores as text.
//!
//! The store parses every such column into its enum when it reads a row, so no code above it
//! compares strings; the schema holds the same sets as CHECK constraints, and a test inserts
//! every code of every set (and one that is not) to prove the two agree.

/// A closed set of codes stored as text.
pub trait Code: Copy + Eq + Sized + 'static {
    /// What the set is, in Chinese, for the error on a value that is not in it.
    const WHAT: &'static str;
    /// Every member, in display order.
    const ALL: &'static [Self];
    /// The stored code.
    fn code(self) -> &'static str;
    /// The member with this code.
    fn from_code(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == s)
    }
}

/// Declares a code enum: each variant with its stored code and its Chinese label, plus
/// `as_str`, `parse`, `label`, `ALL`, `Display` (the label) and serde by code.
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $( $(#[doc = $doc])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                <$name as $crate::code::Code>::from_code(s)
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }
        }

        impl $crate::code::Code for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [$name] = $name::ALL;
            fn code(self) -> &'static str {
                self.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

/// Makes an enum that already has `ALL` and `as_str` a [`Code`].
#[macro_export]
macro_rules! impl_code {
    ($name:ty, $what:literal) => {
        impl $crate::code::Code for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [$name] = &<$name>::ALL;
            fn code(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Code;

    crate::code_enum! {
        /// A test set.
        pub enum Colour("颜色") {
            /// 红.
            Red = "red", "红色";
            Blue = "blue", "蓝色";
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_is_none() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(*c));
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.code())
            );
        }
        assert_eq!(Colour::parse("green"), None);
        assert_eq!(Colour::Blue.to_string(), "蓝色");
        assert_eq!(<Colour as Code>::WHAT, "颜色");
    }
}
