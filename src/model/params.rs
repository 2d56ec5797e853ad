//! Setting one numeric field of a validated model by name (`app.instances`, `workload.rate`), for
//! sweeps over parameters other than traffic. Every change keeps the model valid.

use super::{Arrival, Kind, Model, Step};

/// The fields that can be set, for error messages.
pub const SETTABLE: &str = "workload.rate, workload.users, workload.timeout_ms, and per component \
    NAME.instances, NAME.workers, NAME.queue_capacity, NAME.capacity, NAME.ttl_s, NAME.replicas, \
    NAME.max_connections, NAME.speed (divides every service time of NAME)";

fn whole(value: f64, min: f64, what: &str) -> Result<u32, String> {
    if value.fract() != 0.0 || value < min || value > u32::MAX as f64 {
        Err(format!(
            "{what} must be a whole number ≥ {min}, got {value}"
        ))
    } else {
        Ok(value as u32)
    }
}

fn positive(value: f64, what: &str) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("{what} must be positive, got {value}"))
    }
}

/// Multiplies every Work duration in `steps` by `f`.
pub fn scale_steps(steps: &mut [Step], f: f64) {
    for s in steps {
        match s {
            Step::Work(d) => *d = d.scaled(f),
            Step::Maybe { steps, .. } => scale_steps(steps, f),
            Step::Parallel(branches) => {
                for b in branches {
                    scale_steps(b, f);
                }
            }
            Step::Call(_) | Step::CallWith(..) | Step::Enqueue(_) => {}
        }
    }
}

pub fn apply_parameter(model: &mut Model, name: &str, value: f64) -> Result<(), String> {
    let (head, field) = name
        .rsplit_once('.')
        .ok_or_else(|| format!("`{name}` is not a parameter; expected one of {SETTABLE}"))?;
    if head == "workload" {
        match field {
            "rate" => match &mut model.workload.arrival {
                Arrival::Poisson { rate } => *rate = positive(value, "the rate")?,
                Arrival::Closed { .. } => {
                    return Err("this workload has closed users, not a rate".into());
                }
            },
            "users" => match &mut model.workload.arrival {
                Arrival::Closed { users, .. } => *users = whole(value, 1.0, "users")?,
                Arrival::Poisson { .. } => {
                    return Err("this workload has open arrivals, not users".into());
                }
            },
            "timeout_ms" => model.workload.timeout_ms = Some(positive(value, "the timeout")?),
            _ => {
                return Err(format!(
                    "`{name}` is not a parameter; expected one of {SETTABLE}"
                ));
            }
        }
        return Ok(());
    }
    let id = model
        .component_id(head)
        .ok_or_else(|| format!("there is no component `{head}`"))?;
    let kind = model.components[id].kind.name();
    let unsupported =
        || format!("a {kind} has no settable field `{field}`; expected one of {SETTABLE}");
    match (&mut model.components[id].kind, field) {
        (Kind::Server(s), "instances") => s.instances = whole(value, 1.0, "instances")?,
        (Kind::Server(s), "workers") => s.workers = whole(value, 1.0, "workers")?,
        (Kind::Server(s), "queue_capacity") => {
            s.queue_capacity = Some(whole(value, 0.0, "queue_capacity")?)
        }
        (Kind::Server(s), "speed") => {
            let f = 1.0 / positive(value, "the speed")?;
            scale_steps(&mut s.handler, f);
            for h in s.class_handlers.iter_mut().flatten() {
                scale_steps(h, f);
            }
        }
        (Kind::Database(d), "workers") => d.workers = whole(value, 1.0, "workers")?,
        (Kind::Database(d), "replicas") => {
            d.replicas = whole(value, 0.0, "replicas")?;
            if d.replicas == 0 {
                d.replication_lag = None;
            }
        }
        (Kind::Database(d), "max_connections") => {
            d.max_connections = Some(whole(value, 1.0, "max_connections")?)
        }
        (Kind::Database(d), "speed") => {
            let f = 1.0 / positive(value, "the speed")?;
            d.read = d.read.scaled(f);
            d.write = d.write.scaled(f);
        }
        (Kind::Queue(q), "workers") => q.workers = whole(value, 1.0, "workers")?,
        (Kind::Queue(q), "capacity") => q.capacity = Some(whole(value, 0.0, "capacity")?),
        (Kind::Queue(q), "speed") => {
            scale_steps(&mut q.handler, 1.0 / positive(value, "the speed")?)
        }
        (Kind::Cache(c), "capacity") => c.capacity = Some(whole(value, 1.0, "capacity")? as u64),
        (Kind::Cache(c), "ttl_s") => c.ttl_s = Some(positive(value, "the TTL")?),
        (Kind::Cache(c), "workers") => c.workers = Some(whole(value, 1.0, "workers")?),
        _ => return Err(unsupported()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = r#"Model(name: "m", workload: Workload(arrival: Poisson(rate: 10.0), entry: "app"),
        components: { "app": Server(workers: 2, handler: [Work(Exp(mean_ms: 10.0))]) })"#;

    #[test]
    fn sets_fields_and_rejects_bad_values() {
        let mut m = Model::from_text(M, "m.ron").unwrap();
        apply_parameter(&mut m, "app.instances", 4.0).unwrap();
        apply_parameter(&mut m, "workload.rate", 50.0).unwrap();
        apply_parameter(&mut m, "app.speed", 2.0).unwrap();
        match &m.components[0].kind {
            Kind::Server(s) => {
                assert_eq!(s.instances, 4);
                assert!(
                    matches!(s.handler[0], Step::Work(ref d) if (d.mean_ms() - 5.0).abs() < 1e-12)
                );
            }
            _ => unreachable!(),
        }
        assert!(apply_parameter(&mut m, "app.instances", 2.5).is_err());
        assert!(apply_parameter(&mut m, "app.workers", 0.0).is_err());
        assert!(apply_parameter(&mut m, "nope.workers", 2.0).is_err());
        assert!(apply_parameter(&mut m, "app.ttl_s", 2.0).is_err());
        assert!(apply_parameter(&mut m, "workload.users", 2.0).is_err());
    }
}
