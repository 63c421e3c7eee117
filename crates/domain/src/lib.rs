//! The rules of 郑人社办〔2022〕87号 as pure Rust: validated identifiers, policy values with
//! their clauses, workflow state machines, the working-day calendar and the audit chain.
//! No I/O, no async, no database types: the store remembers, the web layer translates.

pub mod account;
pub mod audit;
pub mod calendar;
pub mod certissue;
pub mod certno;
pub mod code;
pub mod credit_code;
pub mod draw;
pub mod filing;
pub mod id_number;
pub mod institution;
pub mod job;
pub mod occupation;
pub mod outbox;
pub mod outreach;
pub mod permission;
pub mod plan;
pub mod policy;
pub mod reference;
pub mod retention;
pub mod role;
pub mod signature;
pub mod upload;

pub use account::FieldError;
pub use code::Code;
pub use permission::{Action, Reach};
pub use role::{Role, Scope};
