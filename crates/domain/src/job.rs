//! 后台任务 (large imports and the like): the states a job passes through.

crate::code_enum! {
    /// 后台任务状态: `queued` → `running` (first progress) → `succeeded` | `failed`.
    pub enum JobStatus("后台任务状态") {
        /// 排队中.
        Queued = "queued", "排队中";
        /// 进行中.
        Running = "running", "进行中";
        /// 已完成.
        Succeeded = "succeeded", "已完成";
        /// 失败 (also a job interrupted by a stopped server).
        Failed = "failed", "失败";
    }
}

impl JobStatus {
    /// Succeeded or failed: nothing more will happen to the job.
    pub fn is_finished(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}
