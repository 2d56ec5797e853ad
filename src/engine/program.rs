//! Handlers compiled to flat instruction lists. The engine interprets these with a program
//! counter per frame instead of walking the step tree, so a step costs an array read and a match.
//!
//! Every component kind becomes a program: a server's handler as written, a cache's
//! lookup / miss / fill logic, a database's read or write. One program per (component, class),
//! because a class fixes the operation and may replace a server's handler.

use crate::dist::{Dist, Sampler};
use crate::model::{Kind, Model, Op, Step};

#[derive(Debug, Clone, Copy)]
pub enum Instr {
    /// Hold a worker (Async components acquire one here) for a draw from `samplers[sampler]`.
    Work {
        sampler: u32,
    },
    /// Synchronous call; continue at pc + 1 when it responds. `opts` indexes
    /// `Program::call_opts` (timeout and retries) or is `NO_OPTS`.
    Call {
        target: u32,
        opts: u32,
    },
    /// With probability `p` continue at pc + 1, otherwise jump to `skip_to`.
    Maybe {
        p: f64,
        skip_to: u32,
    },
    /// Start `n` branches whose first instructions are `forks[first..first + n]`; continue at
    /// pc + 1 when all have returned.
    Fork {
        first: u32,
        n: u32,
    },
    Jump {
        to: u32,
    },
    /// Hand a task to a queue and continue at once.
    Enqueue {
        queue: u32,
    },
    /// Cache: on a hit continue at pc + 1, on a miss jump to `miss_to`.
    CacheLookup {
        miss_to: u32,
    },
    /// Cache: store the key the backend just returned.
    CacheFill,
    /// Cache: a write went through; drop the key.
    CacheInvalidate,
    /// Database primary: a write finished; schedule it on the replicas.
    Replicate,
    /// With probability `p`, fail (an external API's error).
    FailWith {
        p: f64,
    },
    /// End of this frame: respond to whoever is waiting on it.
    Return,
}

pub struct Program {
    pub code: Vec<Instr>,
    pub call_opts: Vec<crate::model::CallOptions>,
    pub forks: Vec<u32>,
    pub samplers: Vec<Sampler>,
    /// `entry[comp][class]`: first instruction (`u32::MAX` for components without a program).
    pub entry: Vec<Vec<u32>>,
}

pub const NO_PROGRAM: u32 = u32::MAX;
pub const NO_OPTS: u32 = u32::MAX;

impl Program {
    pub fn compile(model: &Model) -> Program {
        let mut p = Program {
            code: Vec::new(),
            call_opts: Vec::new(),
            forks: Vec::new(),
            samplers: Vec::new(),
            entry: Vec::new(),
        };
        for c in &model.components {
            let mut per_class = Vec::new();
            for (ci, class) in model.workload.classes.iter().enumerate() {
                let start = p.code.len() as u32;
                match &c.kind {
                    Kind::Server(s) => {
                        p.steps(s.handler_for(ci));
                        p.code.push(Instr::Return);
                    }
                    Kind::Queue(q) => {
                        p.steps(&q.handler);
                        p.code.push(Instr::Return);
                    }
                    Kind::Cache(_) | Kind::Cdn(_) => {
                        let (hit, backend) = match &c.kind {
                            Kind::Cache(k) => (&k.hit, k.backend),
                            Kind::Cdn(k) => (&k.hit, k.origin),
                            _ => unreachable!(),
                        };
                        let hit = p.sampler(hit);
                        p.code.push(Instr::Work { sampler: hit });
                        match class.op {
                            Op::Read => {
                                let at = p.code.len();
                                p.code.push(Instr::CacheLookup { miss_to: 0 });
                                p.code.push(Instr::Return);
                                let miss = p.code.len() as u32;
                                p.code[at] = Instr::CacheLookup { miss_to: miss };
                                p.code.push(Instr::Call {
                                    target: backend as u32,
                                    opts: NO_OPTS,
                                });
                                p.code.push(Instr::CacheFill);
                                p.code.push(Instr::Return);
                            }
                            Op::Write => {
                                p.code.push(Instr::Call {
                                    target: backend as u32,
                                    opts: NO_OPTS,
                                });
                                p.code.push(Instr::CacheInvalidate);
                                p.code.push(Instr::Return);
                            }
                        }
                    }
                    Kind::Database(db) => match class.op {
                        Op::Read => {
                            let s = p.sampler(&db.read);
                            p.code.push(Instr::Work { sampler: s });
                            p.code.push(Instr::Return);
                        }
                        Op::Write => {
                            let s = p.sampler(&db.write);
                            p.code.push(Instr::Work { sampler: s });
                            p.code.push(Instr::Replicate);
                            p.code.push(Instr::Return);
                        }
                    },
                    Kind::ExternalApi(api) => {
                        let s = p.sampler(&api.latency);
                        p.code.push(Instr::Work { sampler: s });
                        if api.error_rate > 0.0 {
                            p.code.push(Instr::FailWith { p: api.error_rate });
                        }
                        p.code.push(Instr::Return);
                    }
                    Kind::LoadBalancer(_) => {
                        per_class.push(NO_PROGRAM);
                        continue;
                    }
                }
                per_class.push(start);
            }
            p.entry.push(per_class);
        }
        p
    }

    fn sampler(&mut self, d: &Dist) -> u32 {
        self.samplers.push(Sampler::new(d));
        (self.samplers.len() - 1) as u32
    }

    fn steps(&mut self, steps: &[Step]) {
        for s in steps {
            match s {
                Step::Work(d) => {
                    let sampler = self.sampler(d);
                    self.code.push(Instr::Work { sampler });
                }
                Step::Call(t) => self.code.push(Instr::Call {
                    target: *t as u32,
                    opts: NO_OPTS,
                }),
                Step::CallWith(t, o) => {
                    self.call_opts.push(*o);
                    self.code.push(Instr::Call {
                        target: *t as u32,
                        opts: (self.call_opts.len() - 1) as u32,
                    });
                }
                Step::Enqueue(q) => self.code.push(Instr::Enqueue { queue: *q as u32 }),
                Step::Maybe { p, steps } => {
                    let at = self.code.len();
                    self.code.push(Instr::Maybe { p: *p, skip_to: 0 });
                    self.steps(steps);
                    let end = self.code.len() as u32;
                    self.code[at] = Instr::Maybe {
                        p: *p,
                        skip_to: end,
                    };
                }
                Step::Parallel(branches) => {
                    let first = self.forks.len() as u32;
                    self.forks.extend(std::iter::repeat_n(0, branches.len()));
                    self.code.push(Instr::Fork {
                        first,
                        n: branches.len() as u32,
                    });
                    let jump = self.code.len();
                    self.code.push(Instr::Jump { to: 0 });
                    for (i, b) in branches.iter().enumerate() {
                        self.forks[first as usize + i] = self.code.len() as u32;
                        self.steps(b);
                        self.code.push(Instr::Return);
                    }
                    let end = self.code.len() as u32;
                    self.code[jump] = Instr::Jump { to: end };
                }
            }
        }
    }
}
