//! 评价机构: the use cases shared by the pages and the API. Each checks the permission table,
//! loads the record in the caller's scope (属地管理), and has the store apply the change; the
//! handlers only translate forms and JSON.

use domain::institution::DistrictBasis;
use domain::{Action, Role, Scope};
use store::{Account, Division, Institution, InstitutionFilter, Page, PageRequest, UserFilter};

use crate::auth::Authed;
use crate::error::AppError;
use crate::forms::InstitutionForm;
use crate::AppState;

/// 评价机构名录: one page of the institutions in the caller's jurisdiction.
pub async fn institutions(
    state: &AppState,
    me: &Authed,
    filter: &InstitutionFilter,
    page: PageRequest,
) -> Result<Page<Institution>, AppError> {
    me.may(Action::InstitutionView)?;
    Ok(state
        .store
        .list_institutions(&me.scope(), filter, page)
        .await?)
}

/// 机构信息 as its sheet shows it: the institution, how its 属地 was decided, its accounts.
pub struct InstitutionSheet {
    pub institution: Institution,
    /// 二(一): managed where its premises are (the city agreed to the move), not where it is
    /// registered.
    pub by_premises: bool,
    pub accounts: Vec<Account>,
}

/// 机构信息: the institution in the caller's scope, with its accounts.
pub async fn sheet(state: &AppState, me: &Authed, id: i64) -> Result<InstitutionSheet, AppError> {
    let institution = institution(state, me, id).await?;
    let by_premises = state.store.institution_district_basis(id).await? == DistrictBasis::Business;
    let accounts = state
        .store
        .list_accounts(
            &Scope::Institution(id),
            &UserFilter::default(),
            PageRequest::new(Some(1), Some(50)),
        )
        .await?
        .items;
    Ok(InstitutionSheet {
        institution,
        by_premises,
        accounts,
    })
}

/// What the 登记评价机构 form offers: the districts.
pub async fn register_form(state: &AppState, me: &Authed) -> Result<Vec<Division>, AppError> {
    me.may(Action::InstitutionRegister)?;
    crate::reference::districts(state, me).await
}

/// The institution to edit (修改机构信息 form) and the districts the form offers.
pub async fn edit_form(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(Institution, Vec<Division>), AppError> {
    // Jurisdiction first: another district's institution is "not found" before anything else.
    let i = institution(state, me, id).await?;
    me.may(Action::InstitutionEdit)?;
    Ok((i, crate::reference::districts(state, me).await?))
}

/// One institution, if the caller's scope covers it (otherwise "not found").
pub async fn institution(state: &AppState, me: &Authed, id: i64) -> Result<Institution, AppError> {
    me.may(Action::InstitutionView)?;
    Ok(state.store.institution(&me.scope(), id).await?)
}

/// 登记评价机构: a district registers only institutions of its own area.
pub async fn register(
    state: &AppState,
    me: &Authed,
    f: &InstitutionForm,
) -> Result<Institution, AppError> {
    me.may(Action::InstitutionRegister)?;
    let districts = crate::reference::districts(state, me).await?;
    let input = f.validate(&districts)?;
    if !me.scope().covers(Some(&input.reg_district), None) {
        return Err(AppError::invalid(
            "reg_district",
            "只能登记本辖区的机构（属地管理）",
        ));
    }
    Ok(state.store.create_institution(&me.actor(), &input).await?)
}

/// 修改机构信息, with the version check; returns the saved record.
pub async fn update(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &InstitutionForm,
) -> Result<Institution, AppError> {
    // Jurisdiction first: another district's institution is "not found" before anything else.
    state.store.institution(&me.scope(), id).await?;
    me.may(Action::InstitutionEdit)?;
    let districts = crate::reference::districts(state, me).await?;
    let input = f.validate(&districts)?;
    let version = f.expected_version()?;
    // 二(一): an institution the city moved to its premises' district is managed there.
    let effective = if state.store.institution_district_basis(id).await? == DistrictBasis::Business
    {
        &input.biz_district
    } else {
        &input.reg_district
    };
    if !me.scope().covers(Some(effective), Some(id)) && me.role() == Role::District {
        return Err(AppError::invalid(
            "reg_district",
            "迁出本辖区须由市级部门办理",
        ));
    }
    state
        .store
        .update_institution(&me.actor(), &me.scope(), id, version, &input)
        .await?;
    Ok(state.store.institution(&me.scope(), id).await?)
}

/// 备案职业（工种）和等级 of an institution in the caller's scope.
pub async fn filed_occupations(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<Vec<store::FiledOccupation>, AppError> {
    institution(state, me, id).await?;
    Ok(state.store.filed_occupations(id).await?)
}
