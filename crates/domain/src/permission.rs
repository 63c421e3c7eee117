//! The one permission table (权限表): which role may take which action, and over which records.
//!
//! Every route names one [`Action`]; the web layer refuses a role the table does not list before
//! it reads the request, service functions ask the same table, and the navigation and the action
//! buttons are drawn from it. The workflows' commands map to actions too, so a filing or plan
//! command is allowed by this table and then decided by its state machine.

use crate::role::Role::{self, *};

/// Which records an allowed action reaches (范围).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// 公开: no login; anyone may.
    Public,
    /// 本人: the caller's own account, session, notifications and jobs.
    Own,
    /// 辖区: records inside the caller's [`crate::Scope`]: the whole city, its own district, its
    /// own institution, or what it was assigned to (expert, supervisor). Anything else is "not found".
    Jurisdiction,
}

macro_rules! actions {
    ($( $(#[doc = $doc:literal])* $name:ident = $key:literal, $label:literal, $reach:ident, [$($role:ident),*];)*) => {
        /// Something a caller asks to do (操作). One per use case; routes name theirs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action { $( $(#[doc = $doc])* $name, )* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name,)*];

            /// Stable key, used in the OpenAPI document (`x-permission`) and in audit events.
            pub fn key(self) -> &'static str {
                match self { $(Action::$name => $key,)* }
            }

            /// What the action is, in Chinese, for refusal messages.
            pub fn label(self) -> &'static str {
                match self { $(Action::$name => $label,)* }
            }

            pub fn reach(self) -> Reach {
                match self { $(Action::$name => Reach::$reach,)* }
            }

            /// The roles the table allows (empty for public actions, which need no login).
            pub fn roles(self) -> &'static [Role] {
                match self { $(Action::$name => &[$($role),*],)* }
            }
        }
    };
}

actions! {
    // ---- public and own ----
    /// Public pages and data: 公示, certificate query, policy, registration, login.
    PublicView = "public.view", "查看公开信息", Public, [];
    /// The caller's own account: dashboard, password, session, notifications, jobs.
    OwnAccount = "account.own", "使用本人账号", Own, [Admin, CityCenter, CityDivision, District, Institution, Expert, Supervisor];
    /// Reference data that every logged-in role reads: divisions, occupations.
    ReferenceRead = "reference.read", "查看基础数据", Own, [Admin, CityCenter, CityDivision, District, Institution, Expert, Supervisor];

    // ---- administration ----
    /// 行政区划、职业目录、工作日历 maintenance.
    ReferenceManage = "reference.manage", "维护基础数据", Jurisdiction, [Admin];
    /// 接口令牌: issue, list, revoke.
    TokenManage = "tokens.manage", "管理接口令牌", Jurisdiction, [Admin];
    /// 审计日志: read and verify the chain.
    AuditRead = "audit.read", "查看审计日志", Jurisdiction, [Admin, CityCenter, CityDivision];
    /// 消息外发: the SMS and e-mail deliveries with their attempts and errors (recipients masked).
    OutboxView = "outbox.view", "查看消息外发", Jurisdiction, [Admin, CityCenter];
    /// 消息外发: re-queue a failed delivery (audited).
    OutboxRetry = "outbox.retry", "重新发送消息", Jurisdiction, [Admin, CityCenter];
    /// 用户账号: list and view.
    UserView = "users.view", "查看用户账号", Jurisdiction, [Admin, CityCenter, District];
    /// 用户账号: create (which roles each may create is `Role::may_create`; a district creates none).
    UserCreate = "users.create", "创建用户账号", Jurisdiction, [Admin, CityCenter];
    /// 重置密码.
    UserResetPassword = "users.reset_password", "重置用户密码", Jurisdiction, [Admin];
    /// 停用、启用、解锁.
    UserChangeState = "users.state", "变更账号状态", Jurisdiction, [Admin, CityCenter, District];

    // ---- institutions ----
    /// 评价机构: list and view (an institution sees only itself).
    InstitutionView = "institutions.view", "查看评价机构", Jurisdiction, [Admin, CityCenter, CityDivision, District, Institution];
    /// 登记评价机构.
    InstitutionRegister = "institutions.register", "登记评价机构", Jurisdiction, [Admin, CityCenter, District];
    /// 修改机构信息.
    InstitutionEdit = "institutions.edit", "修改机构信息", Jurisdiction, [Admin, CityCenter, District, Institution];
    /// 机构材料: view and download.
    DocumentView = "documents.view", "查看材料", Jurisdiction, [Admin, CityCenter, CityDivision, District, Institution, Expert, Supervisor];
    /// 机构材料: upload.
    DocumentUpload = "documents.upload", "上传材料", Jurisdiction, [CityCenter, District, Institution];
    /// 机构账号注册: list and view the applications.
    RegistrationView = "registrations.view", "查看账号注册申请", Jurisdiction, [CityCenter, CityDivision, District];
    /// 机构账号注册: confirm or refuse (the district of the institution).
    RegistrationDecide = "registrations.decide", "确认账号注册", Jurisdiction, [District];
    /// 属地变更: see requests.
    DistrictMoveView = "district_moves.view", "查看属地变更", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 属地变更: request (the institution).
    DistrictMoveRequest = "district_moves.request", "申请属地变更", Jurisdiction, [Institution];
    /// 属地变更: decide (市鉴定中心).
    DistrictMoveDecide = "district_moves.decide", "审批属地变更", Jurisdiction, [CityCenter];

    // ---- filing (备案) ----
    /// 备案申请: list and view.
    FilingView = "filings.view", "查看备案申请", Jurisdiction, [CityCenter, CityDivision, District, Institution, Expert, Supervisor];
    /// 备案申请: create, edit, submit, withdraw, upload materials (一(二)).
    FilingApply = "filings.apply", "提交备案申请", Jurisdiction, [Institution];
    /// 初审, 抽取专家, 现场评审, 初评意见 (一(二)2–4); the route decides who organises.
    FilingReview = "filings.review", "审查备案申请", Jurisdiction, [CityCenter, CityDivision, District];
    /// 备案材料: upload to an application (the institution; officers while they review; the
    /// dispatched supervisor its 督导意见 attachments).
    FilingDocumentUpload = "filings.documents_upload", "上传备案材料", Jurisdiction, [CityCenter, CityDivision, District, Institution, Supervisor];
    /// 审核、公示异议 (一(二)5).
    FilingApprove = "filings.approve", "审核备案申请", Jurisdiction, [CityCenter, CityDivision];
    /// 公示期满，完成备案 (一(二)6).
    FilingFinish = "filings.finish", "完成备案", Jurisdiction, [CityCenter];
    /// Any workflow command on a filing: allowed to those who may take at least one; the command's
    /// own action then decides.
    FilingAct = "filings.act", "办理备案申请", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 专家评审意见.
    ExpertOpinion = "filings.expert_opinion", "提交专家评审意见", Jurisdiction, [Expert];
    /// 派出督导、督导意见的安排 (市人社部门).
    SupervisorDispatch = "filings.dispatch_supervisor", "派出督导员", Jurisdiction, [CityCenter, CityDivision];
    /// 督导意见.
    SupervisionOpinion = "filings.supervision_opinion", "提交督导意见", Jurisdiction, [Supervisor];
    /// 逾期未办.
    FilingOverdue = "filings.overdue", "查看逾期事项", Jurisdiction, [CityCenter, CityDivision, District];
    /// 特殊情况申请: list and view.
    ExceptionView = "filing_exceptions.view", "查看特殊情况申请", Jurisdiction, [CityCenter, CityDivision, District];
    /// 特殊情况申请: raise (the district).
    ExceptionRaise = "filing_exceptions.raise", "提出特殊情况申请", Jurisdiction, [District];
    /// 特殊情况申请: decide (the city).
    ExceptionDecide = "filing_exceptions.decide", "审批特殊情况申请", Jurisdiction, [CityCenter, CityDivision];
    /// 备案工作安排 (campaigns): list.
    CampaignView = "campaigns.view", "查看备案工作安排", Jurisdiction, [CityCenter, CityDivision, District];
    /// 备案工作安排: publish (市鉴定中心).
    CampaignCreate = "campaigns.create", "发布备案工作安排", Jurisdiction, [CityCenter];
    /// 增量批次: list.
    IncrementRoundView = "increment_rounds.view", "查看增量批次", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 增量批次: open (the city).
    IncrementRoundOpen = "increment_rounds.open", "开启增量批次", Jurisdiction, [CityCenter, CityDivision];
    /// 专家库: list and view.
    ExpertView = "experts.view", "查看专家库", Jurisdiction, [CityCenter, CityDivision, District];
    /// 专家库: add, import, mark unavailable, see the full ID number (市鉴定中心).
    ExpertManage = "experts.manage", "维护专家库", Jurisdiction, [CityCenter];
    /// 专家抽取记录.
    DrawView = "draws.view", "查看专家抽取记录", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 报至上级 (province reports).
    ProvinceReport = "province_reports.manage", "报送省厅", Jurisdiction, [CityCenter, CityDivision];
    /// 企业筛查: list and view.
    EnterpriseView = "enterprises.view", "查看企业筛查", Jurisdiction, [CityCenter, CityDivision, District];
    /// 企业筛查: import, outreach, guidance (the district).
    EnterpriseManage = "enterprises.manage", "办理企业筛查", Jurisdiction, [District];

    // ---- plans (评价计划) and supervision ----
    /// 评价计划: list and view.
    PlanView = "plans.view", "查看评价计划", Jurisdiction, [CityCenter, CityDivision, District, Institution, Supervisor];
    /// 评价计划: create and edit (二(一)).
    PlanEdit = "plans.edit", "编制评价计划", Jurisdiction, [Institution];
    /// Any workflow command on a plan: the command's own action then decides.
    PlanAct = "plans.act", "办理评价计划", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 纸质计划登记、区县审核 (二(一)).
    PlanDistrictReview = "plans.district_review", "审核评价计划", Jurisdiction, [District];
    /// 市级确认 (二(一)).
    PlanCityConfirm = "plans.city_confirm", "确认评价计划", Jurisdiction, [CityCenter, CityDivision];
    /// 取消计划.
    PlanCancel = "plans.cancel", "取消评价计划", Jurisdiction, [District, Institution];
    /// 派督导员 (二(二)).
    SupervisorAssign = "plans.assign_supervisors", "选派督导员", Jurisdiction, [CityCenter, CityDivision, District];
    /// 督导责任书: view and print.
    LetterView = "plans.letter", "查看督导责任书", Jurisdiction, [CityCenter, CityDivision, District, Institution, Supervisor];
    /// 督导责任书: sign (三方).
    LetterSign = "plans.letter_sign", "签署督导责任书", Jurisdiction, [CityCenter, CityDivision, District, Institution, Supervisor];
    /// 督导报告.
    SupervisionReport = "plans.supervision_report", "提交督导报告", Jurisdiction, [Supervisor];
    /// 督导回避关系.
    RelationManage = "supervision.relations", "维护督导回避关系", Jurisdiction, [CityCenter, CityDivision];
    /// 考生与成绩: list.
    CandidateView = "candidates.view", "查看考生", Jurisdiction, [CityCenter, CityDivision, District, Institution, Supervisor];
    /// 考生与成绩: add, import, photos, scores, 公示 and 报送 (二(三)).
    CandidateEnter = "candidates.enter", "录入考生与成绩", Jurisdiction, [Institution];
    /// 查看完整证件号码 (audited).
    CandidateIdNumber = "candidates.id_number", "查看完整证件号码", Jurisdiction, [CityCenter, District, Institution];
    /// 证书: list, view, download the PDF (二(三)).
    CertificateView = "certificates.view", "查看证书", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 证书数据的生成: the preview and the batches (市职业技能鉴定中心 issues; 职建处 sees).
    CertificatePrepare = "certificates.prepare", "查看证书生成", Jurisdiction, [CityCenter, CityDivision];
    /// 生成证书数据: start, resume or abandon a batch (市职业技能鉴定中心).
    CertificateIssue = "certificates.issue", "生成证书数据", Jurisdiction, [CityCenter];
    /// 证书撤销、更正: either city key (center + bureau, two keys).
    CertificateChange = "certificates.change", "撤销或更正证书", Jurisdiction, [CityCenter, CityDivision];
    /// 报送省、国家平台: certificate data and the approved-institution list; batch PDFs.
    CertificateExport = "certificates.export", "导出证书数据", Jurisdiction, [CityCenter, CityDivision];
    /// 评价站点代码 of an institution (entered by the city).
    SiteCodeEdit = "institutions.site_code", "登记评价站点代码", Jurisdiction, [CityCenter, CityDivision];
    /// 证书照片: view (the institution, its district, the city).
    PhotoView = "candidates.photo_view", "查看考生照片", Jurisdiction, [CityCenter, CityDivision, District, Institution];
    /// 证书照片: upload (the institution).
    PhotoUpload = "candidates.photo_upload", "上传考生照片", Jurisdiction, [Institution];
    /// 电子备案: the institution's own.
    EfilingSubmit = "efiling.submit", "提交电子备案", Jurisdiction, [Institution];
    /// 电子备案: list and download.
    EfilingView = "efiling.view", "查看电子备案", Jurisdiction, [Admin, CityCenter, CityDivision, District];
    /// 统计分析: figures with charts and export; a district its own area, the city all districts.
    StatisticsView = "statistics.view", "查看统计分析", Jurisdiction, [CityCenter, CityDivision, District];
    /// 电子备案: review (the district).
    EfilingReview = "efiling.review", "审核电子备案", Jurisdiction, [District];

    // ---- retention and disposal (档案保管与销毁, 二(三)) ----
    /// 档案保管台账: what is kept, what is due, tombstones, xlsx export (a district its own area).
    RetentionView = "retention.view", "查看档案保管台账", Jurisdiction, [CityCenter, CityDivision, District];
    /// 纸质档案登记: what, where kept, by whom, closing date.
    RetentionRegisterPaper = "retention.register_paper", "登记纸质档案", Jurisdiction, [CityCenter, CityDivision, District];
    /// 档案销毁: turn a key (propose or confirm), withdraw, carry out; which key a role turns is
    /// `domain::retention::key_side`.
    RetentionApproveDisposal = "retention.approve_disposal", "审批档案销毁", Jurisdiction, [CityCenter, CityDivision, District];
    /// 冻结（法律保全）: place or lift a legal hold that blocks disposal.
    RetentionHold = "retention.hold", "冻结或解除冻结档案", Jurisdiction, [CityCenter, CityDivision, District];
}

impl Action {
    /// Whether `role` may take this action at all (its scope is then checked on the record).
    pub fn permits(self, role: Role) -> bool {
        self.reach() == Reach::Public || self.roles().contains(&role)
    }

    pub fn parse(key: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.key() == key)
    }
}

/// Whether `role` may take `action`: the one question every layer asks.
pub fn permits(role: Role, action: Action) -> bool {
    action.permits(role)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.key()), "duplicate key {}", a.key());
            assert_eq!(Action::parse(a.key()), Some(*a));
        }
    }

    #[test]
    fn only_public_actions_have_no_roles() {
        for a in Action::ALL {
            assert_eq!(a.roles().is_empty(), a.reach() == Reach::Public, "{a:?}");
        }
    }

    #[test]
    fn the_act_actions_cover_their_commands() {
        for a in [
            Action::FilingApply,
            Action::FilingReview,
            Action::FilingApprove,
            Action::FilingFinish,
        ] {
            for r in a.roles() {
                assert!(Action::FilingAct.permits(*r), "{a:?} {r:?}");
            }
        }
        for a in [
            Action::PlanEdit,
            Action::PlanDistrictReview,
            Action::PlanCityConfirm,
            Action::PlanCancel,
        ] {
            for r in a.roles() {
                assert!(Action::PlanAct.permits(*r), "{a:?} {r:?}");
            }
        }
    }

    #[test]
    fn admin_takes_no_business_decision() {
        for a in [
            Action::FilingApprove,
            Action::FilingReview,
            Action::PlanCityConfirm,
            Action::ExpertManage,
        ] {
            assert!(!a.permits(Role::Admin));
        }
    }
}
