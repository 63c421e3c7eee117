//! Supervision (督导, 二(三)): the three parties, relations that bar a supervisor, the tripartite
//! letter (三方责任书) text and the message each party signs.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::refusal;
use crate::policy::Refusal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Party {
    City,
    District,
    Institution,
}

impl Party {
    pub const ALL: [Party; 3] = [Party::City, Party::District, Party::Institution];
    pub fn as_str(self) -> &'static str {
        match self {
            Party::City => "city",
            Party::District => "district",
            Party::Institution => "institution",
        }
    }
    pub fn parse(s: &str) -> Option<Party> {
        Party::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Party::City => "市级督导员",
            Party::District => "区县督导员",
            Party::Institution => "评价机构",
        }
    }
}

/// Relations that exclude a supervisor (回避): 亲属、师生、师徒、同事.
pub const RELATION_KINDS: [&str; 4] = ["亲属", "师生", "师徒", "同事"];

/// A candidate supervisor as the conflict check sees them.
pub struct SupervisorFacts<'a> {
    pub institution_id: Option<i64>,
    pub employer: &'a str,
    /// Relations recorded between this supervisor and the plan's institution.
    pub relations: &'a [String],
}

/// 二(三) and the national recusal rule: nobody from the institution, nobody related to it.
pub fn check_supervisor_conflict(
    s: &SupervisorFacts<'_>,
    institution_id: i64,
    institution_name: &str,
) -> Result<(), Refusal> {
    let from_inst = s.institution_id == Some(institution_id)
        || (!s.employer.trim().is_empty() && s.employer.trim() == institution_name.trim());
    if from_inst {
        return Err(refusal(
            "supervisor_recusal",
            "二(三)",
            "督导人员不得来自被督导的评价机构（回避）",
        ));
    }
    if let Some(k) = s.relations.first() {
        return Err(refusal(
            "supervisor_recusal",
            "二(三)",
            format!("该督导人员与被督导机构存在{k}关系，须回避"),
        ));
    }
    Ok(())
}

/// 二(三): "督导责任书经三方签字认可后，本次评价过程视为有效".
pub fn evaluation_valid(signed: &[Party]) -> bool {
    Party::ALL.iter().all(|p| signed.contains(p))
}

pub fn check_evaluation_valid(signed: &[Party]) -> Result<(), Refusal> {
    if evaluation_valid(signed) {
        return Ok(());
    }
    let missing: Vec<&str> = Party::ALL
        .iter()
        .filter(|p| !signed.contains(p))
        .map(|p| p.label())
        .collect();
    Err(refusal(
        "supervision_letter",
        "二(三)",
        format!(
            "督导责任书尚缺{}签字，三方签字认可前本次评价无效",
            missing.join("、")
        ),
    ))
}

/// The facts printed in a 督导责任书.
pub struct LetterFacts<'a> {
    pub plan_no: &'a str,
    pub revision: i64,
    pub institution: &'a str,
    pub occupation: &'a str,
    pub levels: &'a str,
    pub forms: &'a str,
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub venue: &'a str,
    pub city_supervisor: &'a str,
    pub district_supervisor: &'a str,
    pub internal_supervisor: &'a str,
}

/// The canonical text of the letter: what is hashed and signed. Line endings are `\n`, no
/// trailing spaces, so the hash is reproducible from the facts.
pub fn supervision_letter_text(f: &LetterFacts<'_>) -> String {
    format!(
        "督导责任书\n\
计划编号：{}（第{}版）\n\
评价机构：{}\n\
职业（工种）：{}\n\
等级：{}\n\
评价方式：{}\n\
评价时间：{} 至 {}\n\
评价场地：{}\n\
市级督导员：{}\n\
区县督导员：{}\n\
机构内部督导员：{}\n\
依据郑人社办〔2022〕87号 二(三)，市级人社部门（督导组）和区县（市）人社部门各派遣一名督导人员实施外部督导。\n\
三方承诺：督导人员依规履行督导职责，如实记录评价过程，遵守回避规定；评价机构严格按照备案范围和评价工作计划组织实施，接受督导。\n\
本责任书经市级督导员、区县督导员和评价机构三方签字认可后，本次评价过程视为有效。\n",
        f.plan_no,
        f.revision,
        f.institution,
        f.occupation,
        f.levels,
        f.forms,
        f.start_date,
        f.end_date,
        f.venue,
        f.city_supervisor,
        f.district_supervisor,
        f.internal_supervisor
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The message a party signs: binds the letter hash to the party, the signer and the time.
pub fn signature_message(letter_hash: &str, party: Party, signer: &str, at: &str) -> String {
    format!(
        "skilleval-supervision-letter\n{letter_hash}\n{}\n{signer}\n{at}",
        party.as_str()
    )
}
