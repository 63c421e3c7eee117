//! 评价机构: the use cases shared by the pages and the API. Each checks the permission table,
//! loads the record in the caller's scope (属地管理), and has the store apply the change; the
//! handlers only translate forms and JSON.

use domain::{Action, Role};
use store::{Division, Institution};

use crate::auth::Authed;
use crate::error::AppError;
use crate::forms::InstitutionForm;
use crate::AppState;

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
    districts: &[Division],
) -> Result<Institution, AppError> {
    me.may(Action::InstitutionRegister)?;
    let input = f.validate(districts)?;
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
    districts: &[Division],
) -> Result<Institution, AppError> {
    // Jurisdiction first: another district's institution is "not found" before anything else.
    state.store.institution(&me.scope(), id).await?;
    me.may(Action::InstitutionEdit)?;
    let input = f.validate(districts)?;
    let version = f.expected_version()?;
    // 二(一): an institution the city moved to its premises' district is managed there.
    let effective = if state.store.institution_district_basis(id).await? == "business" {
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
