//! Splitting a sweep over machines: shard K of N runs the points whose index is K−1 modulo N (all
//! replications of a point stay together), and writes a folder with its results and a manifest
//! naming the study by a hash of the models and arguments. `merge` checks the shards belong
//! together and are complete, then hands back the results a single run would have produced.

use crate::report::ModelInfo;
use crate::stats::summary::RunSummary;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl ShardSpec {
    pub fn contains(&self, point: usize) -> bool {
        point % self.count as usize == (self.index - 1) as usize
    }

    pub fn folder_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// Reads `K/N`, or `auto` from a batch system's environment: Slurm job arrays
/// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`) or Kubernetes
/// Indexed Jobs (`JOB_COMPLETION_INDEX`, 0-based, with the count from `count` or
/// `ARCHSIM_SHARD_COUNT`).
pub fn parse_shard(
    s: &str,
    count: Option<u32>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ShardSpec, String> {
    let num = |v: &str, what: &str| -> Result<u32, String> {
        v.trim()
            .parse::<u32>()
            .map_err(|_| format!("{what} `{v}` is not a whole number"))
    };
    let spec = if s == "auto" {
        if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
            let id = num(&id, "SLURM_ARRAY_TASK_ID")?;
            let min = env("SLURM_ARRAY_TASK_MIN")
                .map(|m| num(&m, "SLURM_ARRAY_TASK_MIN"))
                .transpose()?
                .unwrap_or(0);
            let n = match count {
                Some(n) => n,
                None => num(
                    &env("SLURM_ARRAY_TASK_COUNT").ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give --shard-count")?,
                    "SLURM_ARRAY_TASK_COUNT",
                )?,
            };
            ShardSpec {
                index: id
                    .checked_sub(min)
                    .ok_or("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN")?
                    + 1,
                count: n,
            }
        } else if let Some(i) = env("JOB_COMPLETION_INDEX") {
            let i = num(&i, "JOB_COMPLETION_INDEX")?;
            let n = match count {
                Some(n) => n,
                None => num(
                    &env("ARCHSIM_SHARD_COUNT").ok_or("JOB_COMPLETION_INDEX is set; give the number of shards with --shard-count N (the Job's `completions`)")?,
                    "ARCHSIM_SHARD_COUNT",
                )?,
            };
            ShardSpec {
                index: i + 1,
                count: n,
            }
        } else {
            return Err("--shard auto found neither SLURM_ARRAY_TASK_ID (Slurm job array) nor JOB_COMPLETION_INDEX (Kubernetes Indexed Job)".into());
        }
    } else {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard `{s}` should be K/N (e.g. 2/8) or auto"))?;
        ShardSpec {
            index: num(k, "shard index")?,
            count: num(n, "shard count")?,
        }
    };
    if spec.count == 0 || spec.index == 0 || spec.index > spec.count {
        return Err(format!(
            "shard {}/{} does not exist: K must be from 1 to N",
            spec.index, spec.count
        ));
    }
    Ok(spec)
}

/// What a shard folder says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: u32,
    /// Hash of the models' text and every argument that changes results.
    pub study: String,
    pub shard: u32,
    pub of: u32,
    pub points_total: usize,
    /// Indices of the points in `results.json`, in order.
    pub points: Vec<usize>,
    pub title: String,
    pub slo_p99_ms: f64,
    pub max_error_rate: f64,
    pub story: bool,
    pub models: Vec<ModelInfo>,
}

pub const MANIFEST: &str = "shard.json";
/// Written by shard 1 only.
pub const TIMELINES: &str = "timelines.json";

/// FNV-1a 64 over length-prefixed parts, as hex.
pub fn study_hash(parts: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in (p.len() as u64).to_le_bytes().iter().chain(p.as_bytes()) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A merged study: everything `write_sweep` needs.
pub struct Merged {
    pub manifest: Manifest,
    pub results: Vec<RunSummary>,
    pub timelines: Vec<(String, crate::stats::timeline::Timeline)>,
}

fn read_json<T: serde::de::DeserializeOwned>(p: &Path) -> Result<T, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("{}: cannot read: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a valid archsim file: {e}",
            p.display(),
            e.line(),
            e.column()
        )
    })
}

/// Shard folders given directly, or found as `shard-*-of-*` inside the folders given.
fn shard_folders(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for d in dirs {
        if d.join(MANIFEST).is_file() {
            out.push(d.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| format!("{}: cannot read folder: {e}", d.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(MANIFEST).is_file())
            .collect();
        if found.is_empty() {
            return Err(format!(
                "{}: not a shard folder (no {MANIFEST}) and contains none",
                d.display()
            ));
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

pub fn merge(dirs: &[PathBuf]) -> Result<Merged, String> {
    let folders = shard_folders(dirs)?;
    let mut first: Option<(PathBuf, Manifest)> = None;
    let mut slots: Vec<Option<RunSummary>> = Vec::new();
    let mut seen_shards: Vec<Option<PathBuf>> = Vec::new();
    let mut timelines = Vec::new();
    for f in &folders {
        let m: Manifest = read_json(&f.join(MANIFEST))?;
        match &first {
            None => {
                slots = vec![None; m.points_total];
                seen_shards = vec![None; m.of as usize];
                first = Some((f.clone(), m.clone()));
            }
            Some((f0, m0)) => {
                if m.study != m0.study || m.of != m0.of || m.points_total != m0.points_total {
                    return Err(format!(
                        "{} and {} are shards of different studies (different models or arguments: study {} of {} shards vs study {} of {} shards)",
                        f0.display(),
                        f.display(),
                        m0.study,
                        m0.of,
                        m.study,
                        m.of
                    ));
                }
            }
        }
        let k = m.shard as usize;
        if k == 0 || k > seen_shards.len() {
            return Err(format!(
                "{}: shard {}/{} is out of range",
                f.display(),
                m.shard,
                m.of
            ));
        }
        if let Some(prev) = &seen_shards[k - 1] {
            return Err(format!(
                "shard {}/{} is given twice: {} and {}",
                m.shard,
                m.of,
                prev.display(),
                f.display()
            ));
        }
        seen_shards[k - 1] = Some(f.clone());
        if k == 1 {
            timelines = read_json(&f.join(TIMELINES))?;
        }
        let results: Vec<RunSummary> = read_json(&f.join("results.json"))?;
        if results.len() != m.points.len() {
            return Err(format!(
                "{}: results.json has {} points, the manifest lists {}",
                f.display(),
                results.len(),
                m.points.len()
            ));
        }
        for (i, r) in m.points.iter().zip(results) {
            if *i >= slots.len() {
                return Err(format!("{}: point {i} is out of range", f.display()));
            }
            slots[*i] = Some(r);
        }
    }
    let (_, manifest) = first.ok_or("no shard folders given")?;
    let missing: Vec<String> = seen_shards
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{}", i + 1, manifest.of))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the study is incomplete: shard {} missing",
            missing.join(", ")
        ));
    }
    let results = slots
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.ok_or_else(|| format!("point {i} is in no shard")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Merged {
        manifest,
        results,
        timelines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let v: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        move |k| v.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn shard_specs_from_flags_and_batch_systems() {
        let none = env_of(&[]);
        assert_eq!(
            parse_shard("2/8", None, &none).unwrap(),
            ShardSpec { index: 2, count: 8 }
        );
        assert!(parse_shard("0/8", None, &none).is_err());
        assert!(parse_shard("9/8", None, &none).is_err());
        assert!(parse_shard("auto", None, &none).is_err());
        let slurm = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            parse_shard("auto", None, &slurm).unwrap(),
            ShardSpec { index: 3, count: 4 }
        );
        let slurm0 = env_of(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            parse_shard("auto", None, &slurm0).unwrap(),
            ShardSpec { index: 1, count: 4 }
        );
        let k8s = env_of(&[("JOB_COMPLETION_INDEX", "4")]);
        assert!(parse_shard("auto", None, &k8s).is_err());
        assert_eq!(
            parse_shard("auto", Some(5), &k8s).unwrap(),
            ShardSpec { index: 5, count: 5 }
        );
        let s = ShardSpec { index: 2, count: 3 };
        assert_eq!(
            (0..9).filter(|&i| s.contains(i)).collect::<Vec<_>>(),
            vec![1, 4, 7]
        );
    }
}
