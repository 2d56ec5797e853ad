//! The component graph: who calls, routes to, falls back on or enqueues onto whom. Used for the
//! cycle check, for "farthest down the call chain" in the bottleneck rule, and for `archsim graph`.

use super::{CompId, Kind, Model, Step};
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// A synchronous `Call` step.
    Call,
    /// A load balancer's route to a target.
    Route,
    /// A cache's miss and write path to its backend.
    Backend,
    /// An asynchronous hand-off to a queue.
    Enqueue,
}

impl Edge {
    pub fn is_sync(self) -> bool {
        !matches!(self, Edge::Enqueue)
    }
}

/// Node `i` is component `i`.
pub fn build(model: &Model) -> DiGraph<CompId, Edge> {
    let mut g = DiGraph::new();
    for i in 0..model.components.len() {
        g.add_node(i);
    }
    let add = |g: &mut DiGraph<CompId, Edge>, a: CompId, b: CompId, e: Edge| {
        let (na, nb) = (NodeIndex::new(a), NodeIndex::new(b));
        if !g.edges_connecting(na, nb).any(|x| *x.weight() == e) {
            g.add_edge(na, nb, e);
        }
    };
    for (i, c) in model.components.iter().enumerate() {
        match &c.kind {
            Kind::Server(s) => {
                let mut targets = Vec::new();
                collect_targets(&s.handler, &mut targets);
                for h in s.class_handlers.iter().flatten() {
                    collect_targets(h, &mut targets);
                }
                for (t, e) in targets {
                    add(&mut g, i, t, e);
                }
            }
            Kind::Queue(q) => {
                let mut targets = Vec::new();
                collect_targets(&q.handler, &mut targets);
                for (t, e) in targets {
                    add(&mut g, i, t, e);
                }
            }
            Kind::LoadBalancer(lb) => {
                for &t in &lb.targets {
                    add(&mut g, i, t, Edge::Route);
                }
            }
            Kind::Cache(cache) => add(&mut g, i, cache.backend, Edge::Backend),
            Kind::Cdn(cdn) => add(&mut g, i, cdn.origin, Edge::Backend),
            Kind::Database(_) | Kind::ExternalApi(_) => {}
        }
    }
    g
}

fn collect_targets(steps: &[Step], out: &mut Vec<(CompId, Edge)>) {
    for s in steps {
        match s {
            Step::Work(_) => {}
            Step::Call(t) | Step::CallWith(t, _) => out.push((*t, Edge::Call)),
            Step::Enqueue(t) => out.push((*t, Edge::Enqueue)),
            Step::Maybe { steps, .. } => collect_targets(steps, out),
            Step::Parallel(branches) => {
                for b in branches {
                    collect_targets(b, out);
                }
            }
        }
    }
}

fn sync_only(model: &Model) -> DiGraph<CompId, Edge> {
    let mut g = build(model);
    g.retain_edges(|g, e| g[e].is_sync());
    g
}

/// A cycle of synchronous edges through two or more components, as a list of components in call
/// order, if there is one. (A component calling itself is reported by validation on its own.)
pub fn sync_cycle(model: &Model) -> Option<Vec<CompId>> {
    let g = sync_only(model);
    for scc in tarjan_scc(&g) {
        if scc.len() > 1 {
            // Walk the cycle from its smallest member so the message is stable.
            let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min().expect("non-empty scc");
            let mut cycle = vec![start.index()];
            let mut at = start;
            loop {
                let next = g
                    .neighbors(at)
                    .filter(|n| members.contains(n))
                    .min()
                    .expect("a strongly connected component has a successor inside it");
                if next == start || cycle.contains(&next.index()) {
                    break;
                }
                cycle.push(next.index());
                at = next;
            }
            return Some(cycle);
        }
    }
    None
}

/// How far down the call chain each component sits: the longest path to it from a component
/// nobody calls. Asynchronous hand-offs count when they keep the graph acyclic.
pub fn depths(model: &Model) -> Vec<u32> {
    let full = build(model);
    let g = if toposort(&full, None).is_ok() {
        full
    } else {
        sync_only(model)
    };
    let order = toposort(&g, None).unwrap_or_default();
    let mut depth = vec![0u32; model.components.len()];
    for n in order {
        for m in g.neighbors(n) {
            depth[m.index()] = depth[m.index()].max(depth[n.index()] + 1);
        }
    }
    depth
}

/// Components that no request can reach, from the entries through every edge.
pub fn unreachable(model: &Model) -> Vec<CompId> {
    let g = build(model);
    let mut seen = vec![false; model.components.len()];
    let mut stack: Vec<NodeIndex> = model
        .workload
        .classes
        .iter()
        .map(|c| NodeIndex::new(c.entry))
        .collect();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n.index()], true) {
            continue;
        }
        stack.extend(g.neighbors(n));
    }
    (0..seen.len()).filter(|&i| !seen[i]).collect()
}

/// The graph in Graphviz DOT, each node labelled with its kind, instances and workers.
pub fn to_dot(model: &Model) -> String {
    let g = build(model);
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", escape(&model.name));
    let _ = writeln!(
        out,
        "  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    );
    let _ = writeln!(
        out,
        "  \"clients\" [shape=ellipse, label=\"clients\\n{}\"];",
        escape(&arrival_label(model))
    );
    for (i, c) in model.components.iter().enumerate() {
        let mut label = format!("{}\\n{}", escape(&c.name), c.kind.name());
        if c.instances() > 1 {
            let _ = write!(label, " ×{}", c.instances());
        }
        if let Some(w) = c.workers() {
            let _ = write!(label, ", {w} worker{}", if w == 1 { "" } else { "s" });
        }
        if let Kind::Server(s) = &c.kind
            && s.mode == super::Mode::Async
        {
            label.push_str(", async");
        }
        if let Kind::Database(d) = &c.kind
            && d.replicas > 0
        {
            let _ = write!(
                label,
                "\\n(primary + {} replica{})",
                d.replicas,
                if d.replicas == 1 { "" } else { "s" }
            );
        }
        let _ = writeln!(out, "  n{i} [label=\"{label}\"];");
    }
    let mut entries: Vec<CompId> = model.workload.classes.iter().map(|c| c.entry).collect();
    entries.sort_unstable();
    entries.dedup();
    for e in entries {
        let _ = writeln!(out, "  \"clients\" -> n{e};");
    }
    for e in g.edge_indices() {
        let (a, b) = g.edge_endpoints(e).expect("edge exists");
        let style = match g[e] {
            Edge::Call => "",
            Edge::Route => " [label=\"route\"]",
            Edge::Backend => " [label=\"miss/write\"]",
            Edge::Enqueue => " [style=dashed, label=\"enqueue\"]",
        };
        let _ = writeln!(out, "  n{} -> n{}{style};", a.index(), b.index());
    }
    out.push_str("}\n");
    out
}

fn arrival_label(model: &Model) -> String {
    match &model.workload.arrival {
        super::Arrival::Poisson { rate } => format!("Poisson {rate} req/s"),
        super::Arrival::Closed { users, .. } => format!("{users} closed users"),
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
