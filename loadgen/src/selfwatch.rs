//! loadgen watches itself: its own CPU use, sampled once a second with
//! `sysinfo`, and (from the recorder) how late it sends. When it sends late,
//! the load it produced is not the load that was asked for, and the report
//! and the screen say that loadgen, not the target, was the bottleneck.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// Send lag p99 above this means loadgen could not keep its schedule.
pub const LAG_BOTTLENECK_MS: f64 = 10.0;

#[derive(Debug)]
pub struct SelfWatch {
    /// `None` where the platform gives no process information.
    system: Option<System>,
    pid: Pid,
    samples: u32,
    sum: f64,
}

impl SelfWatch {
    pub fn new() -> Self {
        let pid = Pid::from_u32(std::process::id());
        let mut system = System::new().ok();
        if let Some(s) = &mut system {
            s.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                true,
                ProcessRefreshKind::nothing().with_cpu(),
            );
        }
        Self {
            system,
            pid,
            samples: 0,
            sum: 0.0,
        }
    }

    /// Samples CPU use since the last call, in % of one core.
    pub fn sample(&mut self) {
        let Some(system) = &mut self.system else {
            return;
        };
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            true,
            ProcessRefreshKind::nothing().with_cpu(),
        );
        let cpu = system
            .process(self.pid)
            .map_or(0.0, |p| f64::from(p.cpu_usage()));
        self.samples += 1;
        self.sum += cpu;
    }

    /// Mean CPU over the samples, in % of one core.
    pub fn mean_cpu(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            self.sum / f64::from(self.samples)
        }
    }
}

impl Default for SelfWatch {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether loadgen itself limited the run.
pub fn is_bottleneck(lag_p99_ms: f64) -> bool {
    lag_p99_ms > LAG_BOTTLENECK_MS
}
