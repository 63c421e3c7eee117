//! Supervision (督导: assignments, relations, the tripartite letter and its signatures, reports),
//! candidates (考生) and results (成绩, 公示, 上报) of a plan.

mod candidates;
mod supervision;

pub use candidates::{Candidate, CandidateImport, NewCandidate, PublicResult, ScoreUpdate};
pub use supervision::{Assignment, Letter, Relation, Report, Signature};
