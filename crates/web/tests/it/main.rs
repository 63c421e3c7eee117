//! One integration-test binary: the real app on port 0, a fresh database per test (SQLite by
//! default; PostgreSQL when SKILLEVAL_TEST_PG holds a server URL).

extern crate skilleval_web as web;

mod helpers;

mod admin;
mod audit;
mod auth;
mod bad_input;
mod browser;
mod certificates;
mod documents;
mod fuzz;
mod imports;
mod jobs;
mod notice_calendar;
mod notice_inst_plans;
mod notifications;
mod outbox;
mod permissions;
mod plans;
mod retention;
mod statistics;

mod api_complete;

mod filing;
mod filing_browser;
mod front_door;
mod jurisdiction;
mod notice_filing_review;
mod notice_filing_rules;
mod webdriver;
