//! 增量批次、备案工作安排、逾期事项与公开查询。

use super::*;

impl Store {
    /// The city opens an extra increment round (原则上每年3月和9月: another needs a reason); audited.
    pub async fn open_increment_round(
        &self,
        actor: &Actor,
        opens_on: NaiveDate,
        closes_on: NaiveDate,
        reason: &str,
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO increment_rounds (opens_on, closes_on, reason, opened_by, opened_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(opens_on.to_string())
            .bind(closes_on.to_string())
            .bind(reason)
            .bind(&actor.username)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "increment_round.open",
                object_type: "increment_round",
                object_id: id.to_string(),
                summary: serde_json::json!({ "opens_on": opens_on.to_string(), "closes_on": closes_on.to_string(), "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Extra rounds, newest first.
    pub async fn increment_rounds(&self) -> Result<Vec<IncrementRound>> {
        let rows = sqlx::query("SELECT id, opens_on, closes_on, reason, opened_by, opened_at FROM increment_rounds ORDER BY opens_on DESC, id DESC")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| IncrementRound {
                id: r.get(0),
                opens_on: r.get(1),
                closes_on: r.get(2),
                reason: r.get(3),
                opened_by: r.get(4),
                opened_at: r.get(5),
            })
            .collect())
    }

    /// The extra round open on `date`, if any.
    pub async fn increment_round_on(&self, date: NaiveDate) -> Result<Option<IncrementRound>> {
        let d = date.to_string();
        Ok(self
            .increment_rounds()
            .await?
            .into_iter()
            .find(|r| r.opens_on <= d && d <= r.closes_on))
    }

    // ---- campaigns (三(三)) ----

    pub async fn create_campaign(
        &self,
        actor: &Actor,
        name: &str,
        deadline: NaiveDate,
        clause: &str,
        application_ids: &[i64],
    ) -> Result<i64> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO filing_campaigns (name, deadline, clause, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(name)
            .bind(deadline.to_string())
            .bind(clause)
            .bind(&actor.username)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await?
            .get(0);
        for a in application_ids {
            sqlx::query("UPDATE filing_applications SET campaign_id = $1 WHERE id = $2")
                .bind(id)
                .bind(*a)
                .execute(tx.conn())
                .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "filing_campaign.create",
                object_type: "filing_campaign",
                object_id: id.to_string(),
                summary: serde_json::json!({ "name": name, "deadline": deadline.to_string(), "applications": application_ids }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let rows = sqlx::query("SELECT c.id, c.name, c.deadline, c.clause, (SELECT COUNT(*) FROM filing_applications a WHERE a.campaign_id = c.id), (SELECT COUNT(*) FROM filing_applications a WHERE a.campaign_id = c.id AND a.state NOT IN ('filed', 'rejected', 'withdrawn')) FROM filing_campaigns c ORDER BY c.deadline, c.id")
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Campaign {
                id: r.get(0),
                name: r.get(1),
                deadline: r.get(2),
                clause: r.get(3),
                total: r.get(4),
                open: r.get(5),
            })
            .collect())
    }

    /// Applications of a campaign still open after its deadline (`today` in China time).
    pub async fn overdue_filings(
        &self,
        scope: &Scope,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<FilingApp>> {
        let mut w = Where::new();
        overdue_filter(&mut w, scope, today);
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {COLUMNS} FROM {FROM}"),
                "c.deadline, a.id",
                page,
            )
            .await?;
        let total = w.total_after(&self.db, FROM, page, rows.len()).await?;
        let mut items: Vec<FilingApp> = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        self.load_items(&mut items).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Ids of applications whose 公示 ended before `today` without an objection: due to be filed.
    pub async fn filings_publicity_over(&self, today: NaiveDate) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT id FROM filing_applications WHERE state = 'publicity' AND publicity_end < $1 ORDER BY publicity_end, id")
            .bind(today.to_string())
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Applications in 公示 on `today` (public page: no personal data). A period that has
    /// ended is never shown as 公示中, even before the scheduler has moved the record on.
    pub async fn public_filings(
        &self,
        today: NaiveDate,
        page: PageRequest,
    ) -> Result<Page<FilingApp>> {
        let mut w = Where::new();
        let t = w.arg(Arg::Text(today.to_string()));
        w.raw(&format!(
            "(a.state = 'publicity_paused' OR (a.state = 'publicity' AND a.publicity_end >= {t}))"
        ));
        let items = self
            .page_with_items(&w, "a.publicity_end, a.id", page)
            .await?;
        let total = w.total_after(&self.db, FROM, page, items.len()).await?;
        Ok(Page {
            items,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Public list of filed institutions with their scope, searchable by district and occupation.
    pub async fn public_filed(
        &self,
        district: Option<&str>,
        occupation_q: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<PublicFiled>> {
        let mut w = Where::new();
        w.raw("f.revoked_at IS NULL");
        w.eq_text("i.district_code", district);
        w.search(&["o.code", "o.name", "i.name"], occupation_q);
        let from = "filed_occupations f JOIN institutions i ON i.id = f.institution_id JOIN occupations o ON o.id = f.occupation_id JOIN divisions d ON d.code = i.district_code";
        let rows = w
            .page(&self.db, &format!("SELECT i.name, d.name, o.code, o.name, o.kind, f.levels, f.filing_no, f.filed_on FROM {from}"), "d.sort, i.name, o.code", page)
            .await?;
        let total = w.total_after(&self.db, from, page, rows.len()).await?;
        Ok(Page {
            items: rows
                .iter()
                .map(|r| {
                    Ok(PublicFiled {
                        institution: r.get(0),
                        district: r.get(1),
                        occupation_code: r.get(2),
                        occupation_name: r.get(3),
                        occupation_kind: code(r, 4)?,
                        levels: r.get(5),
                        filing_no: r.get(6),
                        filed_on: r.get(7),
                    })
                })
                .collect::<Result<_>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicFiled {
    pub institution: String,
    pub district: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub occupation_kind: domain::reference::ItemKind,
    pub levels: String,
    pub filing_no: String,
    pub filed_on: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub deadline: String,
    pub clause: String,
    pub total: i64,
    pub open: i64,
}

/// An extra increment round opened by the city (一(四) 原则上).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncrementRound {
    pub id: i64,
    pub opens_on: String,
    pub closes_on: String,
    pub reason: String,
    pub opened_by: String,
    pub opened_at: String,
}

/// The conditions of [`Store::overdue_filings`] (also counted on the city's work queue).
pub(crate) fn overdue_filter(w: &mut Where, scope: &Scope, today: NaiveDate) {
    scope_filings(w, scope);
    let p = w.arg(Arg::Text(today.to_string()));
    w.raw(format!(
        "c.deadline < {p} AND a.state NOT IN ('filed', 'rejected', 'withdrawn')"
    ));
}
