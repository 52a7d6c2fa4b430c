//! How much CPU this process may use, in cores: the smaller of the CPUs it may
//! run on and its cgroup quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us` /
//! `cpu.cfs_period_us`), walking up the cgroup tree since a parent's quota
//! limits its children too. On Fargate a task with 0.5 vCPU has a quota of
//! half a core even when the host shows 2: "75 %" must mean 0.375 cores.

use std::path::{Path, PathBuf};

/// CPUs available to this process, fractional when a quota applies.
pub fn allowed_cpus() -> f64 {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    match cgroup_quota_cores(Path::new("/sys/fs/cgroup"), Path::new("/proc/self/cgroup")) {
        Some(q) if q > 0.0 => cpus.min(q),
        _ => cpus,
    }
}

/// The tightest cgroup CPU quota on the path from this process's cgroup to
/// the root, in cores; `None` when no quota is set (or cgroups are absent).
pub fn cgroup_quota_cores(cgroup_root: &Path, proc_self_cgroup: &Path) -> Option<f64> {
    let membership = std::fs::read_to_string(proc_self_cgroup).ok()?;
    let mut best: Option<f64> = None;
    for line in membership.lines() {
        // Format: hierarchy-id:controllers:path
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let quota = if id == "0" && controllers.is_empty() {
            walk_up(cgroup_root, path, |dir| read_v2(&dir.join("cpu.max")))
        } else if controllers.split(',').any(|c| c == "cpu") {
            let candidates = [
                cgroup_root.join(controllers),
                cgroup_root.join("cpu,cpuacct"),
                cgroup_root.join("cpu"),
            ];
            let Some(base) = candidates.into_iter().find(|p| p.is_dir()) else {
                continue;
            };
            walk_up(&base, path, read_v1)
        } else {
            None
        };
        best = match (best, quota) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    best
}

/// Applies `read` to `root/path` and each parent up to `root`; the minimum wins.
fn walk_up(root: &Path, path: &str, read: impl Fn(&Path) -> Option<f64>) -> Option<f64> {
    let mut dir: PathBuf = root.join(path.trim_start_matches('/'));
    let mut best: Option<f64> = None;
    loop {
        if let Some(q) = read(&dir) {
            best = Some(best.map_or(q, |b: f64| b.min(q)));
        }
        if dir == root || !dir.pop() || !dir.starts_with(root) {
            break;
        }
    }
    best
}

/// cgroup v2 `cpu.max`: `"max 100000"` (no quota) or `"50000 100000"`.
fn read_v2(file: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut it = text.split_whitespace();
    let quota = it.next()?;
    let period: f64 = it.next()?.parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    Some(quota.parse::<f64>().ok()? / period)
}

/// cgroup v1: `cpu.cfs_quota_us` is `-1` when unlimited.
fn read_v1(dir: &Path) -> Option<f64> {
    let quota: f64 = std::fs::read_to_string(dir.join("cpu.cfs_quota_us"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let period: f64 = std::fs::read_to_string(dir.join("cpu.cfs_period_us"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn v2_quota_is_the_tightest_on_the_path() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("cg");
        write(&root.join("cpu.max"), "max 100000\n");
        write(&root.join("ecs/cpu.max"), "150000 100000\n");
        write(&root.join("ecs/task/cpu.max"), "max 100000\n");
        let proc_cg = tmp.path().join("proc_cgroup");
        write(&proc_cg, "0::/ecs/task\n");
        let q = cgroup_quota_cores(&root, &proc_cg).expect("quota");
        assert!((q - 1.5).abs() < 1e-9, "{q}");
    }

    #[test]
    fn v2_without_quota_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("cg");
        write(&root.join("cpu.max"), "max 100000\n");
        let proc_cg = tmp.path().join("proc_cgroup");
        write(&proc_cg, "0::/\n");
        assert_eq!(cgroup_quota_cores(&root, &proc_cg), None);
    }

    #[test]
    fn v1_quota_is_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("cg");
        write(
            &root.join("cpu,cpuacct/docker/x/cpu.cfs_quota_us"),
            "50000\n",
        );
        write(
            &root.join("cpu,cpuacct/docker/x/cpu.cfs_period_us"),
            "100000\n",
        );
        let proc_cg = tmp.path().join("proc_cgroup");
        write(&proc_cg, "4:cpu,cpuacct:/docker/x\n2:memory:/docker/x\n");
        let q = cgroup_quota_cores(&root, &proc_cg).expect("quota");
        assert!((q - 0.5).abs() < 1e-9, "{q}");
    }

    #[test]
    fn allowed_cpus_is_positive_and_at_most_the_cpu_count() {
        let c = allowed_cpus();
        let n = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        assert!(c > 0.0 && c <= n, "{c} of {n}");
    }
}
