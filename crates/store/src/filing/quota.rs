//! 配额：同一区县同一职业（工种）的备案名额，及特殊情况申请的使用。

use super::*;

/// Quoted list of known keys for an `IN (...)` (the keys are checked against a fixed set).
pub(super) fn in_list(keys: &[String], known: &[&str]) -> String {
    let v: Vec<String> = keys
        .iter()
        .filter(|k| known.contains(&k.as_str()))
        .map(|k| format!("'{k}'"))
        .collect();
    if v.is_empty() {
        "''".into()
    } else {
        v.join(", ")
    }
}

pub(super) fn quota_sql(filing_kinds: &[String], institution_kinds: &[String]) -> String {
    let states: Vec<String> = FilingState::ALL
        .into_iter()
        .filter(|s| s.holds_quota_slot())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let fk: Vec<&str> = domain::filing::FilingKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    let ik: Vec<&str> = domain::institution::InstitutionKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    format!(
        "SELECT COUNT(DISTINCT t.inst) FROM ( \
           SELECT f.institution_id AS inst FROM filed_occupations f JOIN institutions i ON i.id = f.institution_id \
           WHERE i.district_code = $1 AND f.occupation_id = $2 AND f.revoked_at IS NULL AND i.kind IN ({}) \
           UNION \
           SELECT a.institution_id AS inst FROM filing_applications a JOIN filing_items it ON it.application_id = a.id \
           WHERE a.district_code = $3 AND it.occupation_id = $4 AND a.state IN ({}) AND a.kind IN ({}) \
         ) t WHERE t.inst <> $5",
        in_list(institution_kinds, &ik),
        states.join(", "),
        in_list(filing_kinds, &fk),
    )
}

pub(super) async fn quota_count(
    conn: &mut sqlx::AnyConnection,
    district: &str,
    occupation_id: i64,
    institution_id: i64,
    filing_kinds: &[String],
    institution_kinds: &[String],
) -> Result<i64> {
    Ok(sqlx::query(&quota_sql(filing_kinds, institution_kinds))
        .bind(district)
        .bind(occupation_id)
        .bind(district)
        .bind(occupation_id)
        .bind(institution_id)
        .fetch_one(&mut *conn)
        .await?
        .get(0))
}

/// An item (`it`) of application `a` let through by an exception that application used: the
/// exception raised the applicant's allowance, so the occupation does not count again.
pub(super) fn used_for(rule: &str) -> String {
    format!(
        "SELECT 1 FROM filing_exceptions x JOIN filing_exception_occupations xo ON xo.exception_id = x.id \
         WHERE x.used_by_application = a.id AND x.rule = '{rule}' AND xo.occupation_id = it.occupation_id"
    )
}

/// Exceptions usable by application `app_id` of `institution_id` on `today`: granted, and either
/// unused and not expired, or already used by this application.
const USABLE_EXCEPTIONS: &str = "SELECT x.id, x.rule FROM filing_exceptions x WHERE x.institution_id = $1 AND x.status = 'granted' \
     AND ((x.used_by_application IS NULL AND (x.expires_on IS NULL OR x.expires_on >= $2)) OR x.used_by_application = $3) ORDER BY x.id";

pub(super) async fn usable_exceptions(
    conn: &mut sqlx::AnyConnection,
    institution_id: i64,
    app_id: Option<i64>,
    today: NaiveDate,
) -> Result<Vec<domain::filing::GrantedException>> {
    let rows = sqlx::query(USABLE_EXCEPTIONS)
        .bind(institution_id)
        .bind(today.to_string())
        .bind(app_id.unwrap_or(-1))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = vec![];
    for r in &rows {
        let id: i64 = r.get(0);
        let occupations = sqlx::query(
            "SELECT occupation_id FROM filing_exception_occupations WHERE exception_id = $1 ORDER BY occupation_id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .collect();
        out.push(domain::filing::GrantedException {
            id,
            rule: r.get(1),
            occupations,
        });
    }
    Ok(out)
}

/// Key for `pg_advisory_xact_lock`, serialising quota re-checks of one district and occupation.
pub(super) fn quota_lock_key(district: &str, occupation_id: i64) -> i64 {
    let mut h: i64 = 0x7175_6f74_6100_0000;
    for b in district.bytes() {
        h = h.wrapping_mul(31).wrapping_add(b as i64);
    }
    h.wrapping_mul(1_000_003).wrapping_add(occupation_id)
}

pub(crate) async fn event(
    tx: &mut WriteTx,
    actor: &Actor,
    application_id: i64,
    action: &str,
    from: &str,
    to: &str,
    reason: &str,
    attachments: &[String],
) -> Result<()> {
    sqlx::query("INSERT INTO filing_events (application_id, action, from_state, to_state, actor_id, actor, role, reason, attachments, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(application_id)
        .bind(action)
        .bind(from)
        .bind(to)
        .bind(actor.user_id)
        .bind(&actor.username)
        .bind(&actor.role)
        .bind(reason)
        .bind(serde_json::to_string(attachments).unwrap_or_else(|_| "[]".into()))
        .bind(now_text())
        .execute(tx.conn())
        .await?;
    append(
        tx,
        actor,
        NewEvent {
            action,
            object_type: "filing_application",
            object_id: application_id.to_string(),
            summary: serde_json::json!({ "from": from, "to": to, "reason": reason, "attachments": attachments }),
        },
    )
    .await?;
    Ok(())
}
