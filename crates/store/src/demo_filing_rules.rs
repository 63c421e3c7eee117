//! Demo data for the submission rules of 一(一) and 一(四) (filled in below).

use chrono::NaiveDate;

use crate::{Result, Store};

pub async fn seed_filing_rules(_store: &Store, _today: NaiveDate) -> Result<()> {
    Ok(())
}
