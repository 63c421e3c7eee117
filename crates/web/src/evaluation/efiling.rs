//! 电子备案 (二(二)): the institution uploads its filing copy; the district confirms or returns it.

use super::*;

pub async fn submit_efiling(
    state: &AppState,
    me: &Authed,
    note: &str,
    file: &UploadedFile,
) -> Result<(), AppError> {
    me.may(Action::EfilingSubmit)?;
    let inst_id = me.account.institution_id.ok_or_else(AppError::forbidden)?;
    let inst = state.store.institution(&me.scope(), inst_id).await?;
    if inst.filing_status != domain::institution::FilingStatus::Filed {
        return Err(AppError::invalid(
            "file",
            "机构尚未完成备案，备案通过后方可上传备案材料电子版（二(二)）",
        ));
    }
    if file.bytes.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的备案材料电子版"));
    }
    let ok_type = file.bytes.starts_with(b"%PDF")
        || file.bytes.starts_with(b"PK")
        || file.bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || file.bytes.starts_with(b"\x89PNG");
    if !ok_type {
        return Err(AppError::invalid(
            "file",
            "备案材料电子版须为 PDF、图片（JPG/PNG）或压缩包/Office 文档",
        ));
    }
    Ok(state
        .store
        .submit_efiling(&me.actor(), inst_id, note.trim(), file)
        .await?)
}

pub async fn review_efiling(
    state: &AppState,
    me: &Authed,
    institution_id: i64,
    version: i64,
    confirm: bool,
    reason: &str,
) -> Result<(), AppError> {
    me.may(Action::EfilingReview)?;
    if !confirm && reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "退回须填写理由"));
    }
    Ok(state
        .store
        .review_efiling(
            &me.actor(),
            &me.scope(),
            institution_id,
            version,
            confirm,
            reason.trim(),
        )
        .await?)
}

// ---------------------------------------------------------------------------------------------
