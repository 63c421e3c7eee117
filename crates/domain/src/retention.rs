//! 档案保管与销毁 (二(三) "机构备案相关资料由机构和区县（市）人社部门留存备查，评价过程资料由备案机构
//! 根据技能人才评价工作相关规定留存。（纸质版材料保存三年、电子版材料保存五年）").
//!
//! Every kind of record the platform keeps has a retention class (保管类别). The class says
//! whether the record is paper or electronic, what closes it (办结), and — through the policy,
//! with its clause — how long it is kept from its closing date. Certificates are kept
//! permanently; only the process material behind them expires.
//!
//! Disposal (销毁) is irreversible, so it needs two keys from two offices — the district and the
//! city for records a district keeps, the city center and the bureau for records the city keeps —
//! and a legal hold (冻结) blocks it until lifted. The rules here are pure; the store applies them.

use chrono::{Datelike, NaiveDate};

use crate::policy::{Policy, Refusal};
use crate::role::Role;

/// 载体: paper or electronic (二(三) sets different periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Medium {
    /// 纸质.
    Paper,
    /// 电子.
    Electronic,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Paper => "paper",
            Medium::Electronic => "electronic",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Medium::Paper => "纸质",
            Medium::Electronic => "电子",
        }
    }
}

/// 保管类别: what a kept record is, and so how long it is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionClass {
    /// 备案申请材料: an application with its uploaded materials, from its 办结 (已备案、不予备案、撤回).
    Filing,
    /// 评价工作计划及过程资料: a plan with its 督导责任书, 督导报告 and materials, from the submission
    /// of its results (or its rejection or cancellation).
    Plan,
    /// 考生信息与评价结果: the candidates of one plan (personal data, photos, scores), from the
    /// plan's closing.
    Candidates,
    /// 机构材料旧版本: an institution's material replaced by a newer upload, from the day it was replaced.
    Document,
    /// 证书数据: kept permanently (the policy's `retention_certificates_permanent`).
    Certificate,
    /// 纸质档案: a paper record registered by its keeper, from its closing date.
    Paper,
}

impl RetentionClass {
    pub const ALL: [RetentionClass; 6] = [
        RetentionClass::Filing,
        RetentionClass::Plan,
        RetentionClass::Candidates,
        RetentionClass::Document,
        RetentionClass::Certificate,
        RetentionClass::Paper,
    ];

    /// Stored in `retention_records.class`.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionClass::Filing => "filing",
            RetentionClass::Plan => "plan",
            RetentionClass::Candidates => "candidates",
            RetentionClass::Document => "document",
            RetentionClass::Certificate => "certificate",
            RetentionClass::Paper => "paper",
        }
    }

    pub fn parse(s: &str) -> Option<RetentionClass> {
        RetentionClass::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            RetentionClass::Filing => "备案申请材料",
            RetentionClass::Plan => "评价工作计划及过程资料",
            RetentionClass::Candidates => "考生信息与评价结果",
            RetentionClass::Document => "机构材料旧版本",
            RetentionClass::Certificate => "证书数据",
            RetentionClass::Paper => "纸质档案",
        }
    }

    pub fn medium(self) -> Medium {
        match self {
            RetentionClass::Paper => Medium::Paper,
            _ => Medium::Electronic,
        }
    }

    /// 办结: the day the period starts.
    pub fn closing(self) -> &'static str {
        match self {
            RetentionClass::Filing => "备案申请办结（已备案、不予备案或撤回）之日",
            RetentionClass::Plan => "评价结果报送（或计划不予通过、取消）之日",
            RetentionClass::Candidates => "所属评价计划办结之日",
            RetentionClass::Document => "被新版本替换之日",
            RetentionClass::Certificate => "—",
            RetentionClass::Paper => "登记的办结（归档）日期",
        }
    }

    /// What disposal removes (shown before the irreversible step).
    pub fn disposal_effect(self) -> &'static str {
        match self {
            RetentionClass::Filing => "删除该申请的全部上传材料（文件）及附件清单；申请的状态、日期和备案编号保留",
            RetentionClass::Plan => "删除计划材料、督导报告附件（文件），清除考评人员、内部督导员、督导责任书和督导报告正文及计划快照中的个人信息；计划编号、状态和日期保留",
            RetentionClass::Candidates => "清除该计划全部考生的姓名、证件号码、电话、学历等个人信息并删除照片（已发证书使用的照片随证书长期保存）；等级、成绩和合格与否以匿名方式保留供统计",
            RetentionClass::Document => "删除该旧版本材料（文件）",
            RetentionClass::Certificate => "证书数据长期保存，不销毁",
            RetentionClass::Paper => "登记纸质档案已按规定销毁；登记信息作为销毁记录保留",
        }
    }

    /// The period of this class under `policy`, with the clause it rests on.
    pub fn rule(self, policy: &Policy) -> ClassRule {
        let (period, clause, text) = match self {
            RetentionClass::Paper => {
                let r = &policy.retention_paper_years;
                (Period::Years(r.value), &r.clause, &r.text)
            }
            RetentionClass::Certificate if policy.retention_certificates_permanent.value => {
                let r = &policy.retention_certificates_permanent;
                (Period::Permanent, &r.clause, &r.text)
            }
            _ => {
                let r = &policy.retention_electronic_years;
                (Period::Years(r.value), &r.clause, &r.text)
            }
        };
        ClassRule {
            class: self,
            period,
            clause: clause.clone(),
            text: text.clone(),
        }
    }
}

/// 纸质档案类别: what a registered paper record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperKind {
    /// 备案纸质材料 (机构备案相关资料, kept by the district or the city).
    Filing,
    /// 纸质评价工作计划 (二(二), received by the district).
    Plan,
    /// 评价过程纸质资料 (督导记录、签到表等).
    Process,
    /// 其他.
    Other,
}

impl PaperKind {
    pub const ALL: [PaperKind; 4] = [
        PaperKind::Filing,
        PaperKind::Plan,
        PaperKind::Process,
        PaperKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaperKind::Filing => "filing",
            PaperKind::Plan => "plan",
            PaperKind::Process => "process",
            PaperKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<PaperKind> {
        PaperKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PaperKind::Filing => "备案纸质材料",
            PaperKind::Plan => "纸质评价工作计划",
            PaperKind::Process => "评价过程纸质资料",
            PaperKind::Other => "其他纸质档案",
        }
    }
}

/// A paper record as registered (纸质档案登记): what, where kept, by whom, closing date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperEntry {
    pub kind: PaperKind,
    pub title: String,
    pub location: String,
    pub custodian: String,
    pub closed_on: NaiveDate,
    pub note: String,
}

/// Check a paper registration: every field filled and short enough, a closing date that has come
/// (a record is registered when it is archived, not before). Returns the entry with its due date.
#[allow(clippy::too_many_arguments)]
pub fn check_paper_entry(
    policy: &Policy,
    kind: &str,
    title: &str,
    location: &str,
    custodian: &str,
    closed_on: &str,
    note: &str,
    today: NaiveDate,
) -> Result<(PaperEntry, NaiveDate), crate::FieldError> {
    use crate::FieldError;
    let kind =
        PaperKind::parse(kind.trim()).ok_or_else(|| FieldError::new("kind", "请选择档案类别"))?;
    let text = |field: &'static str, label: &str, v: &str, max: usize| {
        let v = v.trim();
        if v.is_empty() {
            return Err(FieldError::new(field, format!("请填写{label}")));
        }
        if v.chars().count() > max {
            return Err(FieldError::new(field, format!("{label}不能超过 {max} 字")));
        }
        Ok(v.to_string())
    };
    let title = text("title", "档案名称", title, 200)?;
    let location = text("location", "存放地点", location, 200)?;
    let custodian = text("custodian", "保管人", custodian, 50)?;
    let closed_on = NaiveDate::parse_from_str(closed_on.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new("closed_on", "请填写有效的办结（归档）日期（YYYY-MM-DD）"))?;
    if closed_on > today {
        return Err(FieldError::new(
            "closed_on",
            "办结（归档）日期不能晚于今天：纸质档案办结归档后再登记",
        ));
    }
    let note = note.trim();
    if note.chars().count() > 500 {
        return Err(FieldError::new("note", "备注不能超过 500 字"));
    }
    let due = due_on(policy, RetentionClass::Paper, closed_on).expect("paper records expire");
    Ok((
        PaperEntry {
            kind,
            title,
            location,
            custodian,
            closed_on,
            note: note.to_string(),
        },
        due,
    ))
}

/// 保管期限.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Kept this many years from the closing date.
    Years(u32),
    /// 永久保存.
    Permanent,
}

impl Period {
    pub fn label(self) -> String {
        match self {
            Period::Years(n) => format!("{n} 年"),
            Period::Permanent => "永久".into(),
        }
    }
}

/// A class's period under a policy, with its clause (条款) and the policy's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRule {
    pub class: RetentionClass,
    pub period: Period,
    pub clause: String,
    pub text: String,
}

impl ClassRule {
    /// 保存至: the last day a record closed on `closed_on` must be kept; `None` for permanent
    /// records. The record may be disposed of from this day on.
    pub fn due_on(&self, closed_on: NaiveDate) -> Option<NaiveDate> {
        match self.period {
            Period::Years(n) => Some(add_years(closed_on, n)),
            Period::Permanent => None,
        }
    }
}

/// 保存期限: the due date of a record of `class` closed on `closed_on` (`None`: permanent).
pub fn due_on(policy: &Policy, class: RetentionClass, closed_on: NaiveDate) -> Option<NaiveDate> {
    class.rule(policy).due_on(closed_on)
}

/// The same day `years` later; Feb 29 rolls to Feb 28 in a common year (the period is never
/// longer than the years it names).
pub fn add_years(d: NaiveDate, years: u32) -> NaiveDate {
    let y = d.year() + years as i32;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .expect("valid date")
}

/// 保管单位: who keeps a record, which decides the two keys of its disposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeper {
    /// 市级 (the city center and the bureau).
    City,
    /// 区县(市)人社部门, by division code.
    District(String),
}

impl Keeper {
    /// From a record's district column: `None` is the city.
    pub fn of(district: Option<&str>) -> Keeper {
        match district {
            Some(d) if !d.is_empty() => Keeper::District(d.to_string()),
            _ => Keeper::City,
        }
    }
}

/// One of the two keys of a disposal (销毁审批的一方).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySide {
    /// 区县(市)人社部门 (district records).
    District,
    /// 市级人社部门: the city center or the bureau (district records).
    City,
    /// 市职业技能鉴定中心 (city records).
    Center,
    /// 市人社局职建处 (city records).
    Bureau,
}

impl KeySide {
    pub fn as_str(self) -> &'static str {
        match self {
            KeySide::District => "district",
            KeySide::City => "city",
            KeySide::Center => "center",
            KeySide::Bureau => "bureau",
        }
    }

    pub fn parse(s: &str) -> Option<KeySide> {
        [
            KeySide::District,
            KeySide::City,
            KeySide::Center,
            KeySide::Bureau,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            KeySide::District => "区县（市）人社部门",
            KeySide::City => "市级人社部门",
            KeySide::Center => "市职业技能鉴定中心",
            KeySide::Bureau => "市人社局职建处",
        }
    }

    /// The side that must turn the other key.
    pub fn other(self) -> KeySide {
        match self {
            KeySide::District => KeySide::City,
            KeySide::City => KeySide::District,
            KeySide::Center => KeySide::Bureau,
            KeySide::Bureau => KeySide::Center,
        }
    }
}

/// Where the two-key rule comes from: the notice names no disposal procedure, so the platform
/// sets one (decisions-retention.md).
pub const TWO_KEYS_CLAUSE: &str = "平台规定（档案销毁双方审批：区县保管的由区县与市级人社部门，市级保管的由市职业技能鉴定中心与市人社局职建处）";
/// Where the hold comes from.
pub const HOLD_CLAUSE: &str =
    "平台规定（涉及诉讼、信访、审计或调查的档案依法冻结，冻结期间不得销毁）";

pub const RULE_KEY_ROLE: &str = "retention_key_role";
pub const RULE_TWO_KEYS: &str = "retention_two_keys";
pub const RULE_HOLD: &str = "retention_legal_hold";
pub const RULE_PERIOD: &str = "retention_period";
pub const RULE_STATE: &str = "retention_state";

fn refusal(rule: &'static str, clause: &str, message: String) -> Refusal {
    Refusal {
        rule,
        clause: clause.into(),
        message,
    }
}

/// Which key `role` turns on a record kept by `keeper`, or why it turns none.
pub fn key_side(keeper: &Keeper, role: Role) -> Result<KeySide, Refusal> {
    match (keeper, role) {
        (Keeper::District(_), Role::District) => Ok(KeySide::District),
        (Keeper::District(_), Role::CityCenter | Role::CityDivision) => Ok(KeySide::City),
        (Keeper::City, Role::CityCenter) => Ok(KeySide::Center),
        (Keeper::City, Role::CityDivision) => Ok(KeySide::Bureau),
        (Keeper::City, _) => Err(refusal(
            RULE_KEY_ROLE,
            TWO_KEYS_CLAUSE,
            "市级保管的档案须由市职业技能鉴定中心和市人社局职建处共同审批销毁".into(),
        )),
        (Keeper::District(_), _) => Err(refusal(
            RULE_KEY_ROLE,
            TWO_KEYS_CLAUSE,
            "区县保管的档案须由该区县（市）人社部门和市级人社部门共同审批销毁".into(),
        )),
    }
}

/// The second key: it must come from the side the first key did not.
pub fn second_key(keeper: &Keeper, first: KeySide, role: Role) -> Result<KeySide, Refusal> {
    let side = key_side(keeper, role)?;
    if side == first {
        return Err(refusal(
            RULE_TWO_KEYS,
            TWO_KEYS_CLAUSE,
            format!(
                "{}已同意销毁，第二把钥匙须由{}确认",
                first.label(),
                first.other().label()
            ),
        ));
    }
    Ok(side)
}

/// A kept record as far as disposal is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFacts {
    pub class: RetentionClass,
    pub due_on: NaiveDate,
    pub disposed: bool,
    /// The reason of an active hold, if any.
    pub hold: Option<String>,
}

/// Whether a record may be put forward for, approved for, or carried to disposal on `today`:
/// not yet disposed, its period over, no legal hold.
pub fn check_disposable(
    policy: &Policy,
    facts: &RecordFacts,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if facts.disposed {
        return Err(refusal(RULE_STATE, TWO_KEYS_CLAUSE, "该档案已销毁".into()));
    }
    if let Some(reason) = &facts.hold {
        return Err(refusal(
            RULE_HOLD,
            HOLD_CLAUSE,
            format!("该档案已被冻结（{reason}），解除冻结前不得销毁"),
        ));
    }
    if today < facts.due_on {
        let rule = facts.class.rule(policy);
        return Err(refusal(
            RULE_PERIOD,
            &rule.clause,
            format!(
                "保存期限未满：{}应保存至 {}（{}，自{}起算），期满后方可销毁",
                facts.class.label(),
                facts.due_on.format("%Y-%m-%d"),
                rule.period.label(),
                facts.class.closing()
            ),
        ));
    }
    Ok(())
}

crate::code_enum! {
    /// 保管记录的状态: kept in the register, or disposed (the row stays as the tombstone).
    pub enum RecordState("保管状态") {
        /// 保管中.
        Kept = "kept", "保管中";
        /// 已销毁.
        Disposed = "disposed", "已销毁";
    }
}

crate::code_enum! {
    /// 销毁申请的状态.
    pub enum DisposalStatus("销毁申请状态") {
        /// 一方已同意，待另一方确认.
        Proposed = "proposed", "一方已同意，待另一方确认";
        /// 双方已同意，待执行.
        Approved = "approved", "双方已同意，待执行销毁";
        /// 已撤回.
        Withdrawn = "withdrawn", "已撤回";
        /// 已销毁.
        Done = "done", "已销毁";
    }
}

impl DisposalStatus {
    /// Proposed or approved: the one disposal a record may have open.
    pub fn is_open(self) -> bool {
        matches!(self, DisposalStatus::Proposed | DisposalStatus::Approved)
    }
}

/// The irreversible step needs both keys: a disposal with one key refuses, naming the missing one.
pub fn check_execute(status: DisposalStatus, first: KeySide) -> Result<(), Refusal> {
    match status {
        DisposalStatus::Approved => Ok(()),
        DisposalStatus::Proposed => Err(refusal(
            RULE_TWO_KEYS,
            TWO_KEYS_CLAUSE,
            format!(
                "销毁须经双方同意：{}已同意，尚缺{}的确认（第二把钥匙）",
                first.label(),
                first.other().label()
            ),
        )),
        DisposalStatus::Withdrawn => Err(refusal(
            RULE_STATE,
            TWO_KEYS_CLAUSE,
            "该销毁申请已撤回".into(),
        )),
        DisposalStatus::Done => Err(refusal(RULE_STATE, TWO_KEYS_CLAUSE, "该档案已销毁".into())),
    }
}

/// Who may lift a hold: whoever placed it from the same level, or the city (which sees all).
pub fn check_lift_hold(placed_by_city: bool, role: Role) -> Result<(), Refusal> {
    if placed_by_city && !role.is_city_officer() {
        return Err(refusal(
            RULE_KEY_ROLE,
            HOLD_CLAUSE,
            "该冻结由市级人社部门设置，只能由市级解除".into(),
        ));
    }
    Ok(())
}

/// A reason (原因) of a proposal, hold or lift: required, at most 500 characters.
pub fn check_reason(reason: &str, what: &str) -> Result<String, crate::FieldError> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(crate::FieldError::new(
            "reason",
            format!("请填写{what}的原因"),
        ));
    }
    if r.chars().count() > 500 {
        return Err(crate::FieldError::new(
            "reason",
            format!("{what}的原因不能超过 500 字"),
        ));
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn p() -> Policy {
        Policy::zhengzhou_2022()
    }

    #[test]
    fn retention_due_dates_by_class() {
        let p = p();
        let closed = d(2026, 5, 6);
        for c in [
            RetentionClass::Filing,
            RetentionClass::Plan,
            RetentionClass::Candidates,
            RetentionClass::Document,
        ] {
            assert_eq!(c.medium(), Medium::Electronic);
            assert_eq!(due_on(&p, c, closed), Some(d(2031, 5, 6)), "{c:?}");
            assert_eq!(c.rule(&p).clause, "二(三)");
            assert!(c.rule(&p).text.contains("电子版材料保存五年"));
        }
        assert_eq!(
            due_on(&p, RetentionClass::Paper, closed),
            Some(d(2029, 5, 6))
        );
        assert!(RetentionClass::Paper
            .rule(&p)
            .text
            .contains("纸质版材料保存三年"));
        // Certificates never expire; the clause says why.
        let cert = RetentionClass::Certificate.rule(&p);
        assert_eq!(cert.period, Period::Permanent);
        assert_eq!(due_on(&p, RetentionClass::Certificate, closed), None);
        assert!(cert.clause.starts_with("平台规定"));
        // Feb 29 rolls back, never forward.
        assert_eq!(
            due_on(&p, RetentionClass::Paper, d(2024, 2, 29)),
            Some(d(2027, 2, 28))
        );
        for c in RetentionClass::ALL {
            assert_eq!(RetentionClass::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn another_policy_changes_the_periods() {
        let mut p = p();
        p.retention_electronic_years.value = 10;
        p.retention_certificates_permanent.value = false;
        assert_eq!(
            due_on(&p, RetentionClass::Filing, d(2026, 1, 1)),
            Some(d(2036, 1, 1))
        );
        assert_eq!(
            due_on(&p, RetentionClass::Certificate, d(2026, 1, 1)),
            Some(d(2036, 1, 1))
        );
    }

    #[test]
    fn two_keys_from_two_offices() {
        let district = Keeper::District("410105".into());
        assert_eq!(key_side(&district, Role::District), Ok(KeySide::District));
        assert_eq!(key_side(&district, Role::CityDivision), Ok(KeySide::City));
        assert_eq!(
            second_key(&district, KeySide::District, Role::CityCenter),
            Ok(KeySide::City)
        );
        let r = second_key(&district, KeySide::City, Role::CityDivision).unwrap_err();
        assert_eq!(r.rule, RULE_TWO_KEYS);
        assert!(r.message.contains("区县（市）人社部门"), "{}", r.message);
        let city = Keeper::City;
        assert_eq!(key_side(&city, Role::CityCenter), Ok(KeySide::Center));
        assert_eq!(
            second_key(&city, KeySide::Center, Role::CityDivision),
            Ok(KeySide::Bureau)
        );
        assert_eq!(
            second_key(&city, KeySide::Center, Role::CityCenter)
                .unwrap_err()
                .rule,
            RULE_TWO_KEYS
        );
        assert_eq!(
            key_side(&city, Role::District).unwrap_err().rule,
            RULE_KEY_ROLE
        );
        assert!(key_side(&district, Role::Institution).is_err());
        assert!(key_side(&district, Role::Admin).is_err());
    }

    #[test]
    fn one_key_does_not_dispose() {
        let r = check_execute(DisposalStatus::Proposed, KeySide::District).unwrap_err();
        assert_eq!(r.rule, RULE_TWO_KEYS);
        assert!(r.to_string().contains("尚缺市级人社部门的确认"), "{r}");
        assert!(check_execute(DisposalStatus::Approved, KeySide::District).is_ok());
        assert!(check_execute(DisposalStatus::Done, KeySide::Center).is_err());
    }

    #[test]
    fn retention_legal_hold_blocks() {
        let p = p();
        let mut f = RecordFacts {
            class: RetentionClass::Filing,
            due_on: d(2026, 1, 1),
            disposed: false,
            hold: Some("行政诉讼（2026）豫01行初1号".into()),
        };
        let r = check_disposable(&p, &f, d(2026, 12, 2)).unwrap_err();
        assert_eq!(r.rule, RULE_HOLD);
        assert!(r.to_string().contains("解除冻结前不得销毁"));
        f.hold = None;
        assert!(check_disposable(&p, &f, d(2026, 12, 2)).is_ok());
        // Before its due date a record is kept, naming the clause.
        let r = check_disposable(&p, &f, d(2025, 12, 31)).unwrap_err();
        assert_eq!(r.rule, RULE_PERIOD);
        assert!(r.to_string().contains("二(三)"), "{r}");
        assert!(check_disposable(&p, &f, d(2026, 1, 1)).is_ok());
        f.disposed = true;
        assert_eq!(
            check_disposable(&p, &f, d(2026, 12, 2)).unwrap_err().rule,
            RULE_STATE
        );
        // A district cannot lift the city's hold.
        assert!(check_lift_hold(true, Role::District).is_err());
        assert!(check_lift_hold(true, Role::CityCenter).is_ok());
        assert!(check_lift_hold(false, Role::District).is_ok());
    }

    #[test]
    fn retention_paper_register() {
        let p = p();
        let today = d(2026, 12, 2);
        let (e, due) = check_paper_entry(
            &p,
            "plan",
            " 评价工作计划（纸质） ",
            "档案室3号柜",
            "张三",
            "2026-11-30",
            "",
            today,
        )
        .unwrap();
        assert_eq!(e.kind, PaperKind::Plan);
        assert_eq!(e.title, "评价工作计划（纸质）");
        assert_eq!(due, d(2029, 11, 30));
        let err =
            check_paper_entry(&p, "plan", "x", "", "张三", "2026-11-30", "", today).unwrap_err();
        assert_eq!(err.field, "location");
        let err =
            check_paper_entry(&p, "plan", "x", "柜", "张三", "2026-12-03", "", today).unwrap_err();
        assert_eq!(err.field, "closed_on");
        assert!(check_paper_entry(&p, "box", "x", "柜", "张三", "2026-12-01", "", today).is_err());
    }

    #[test]
    fn reasons_are_required() {
        assert!(check_reason("  ", "冻结").is_err());
        assert_eq!(check_reason(" 诉讼 ", "冻结").unwrap(), "诉讼");
        assert!(check_reason(&"长".repeat(501), "冻结").is_err());
    }
}
