//! Steps that drive the network: deliver, drop, duplicate, delay (hold and release) the
//! messages in flight, settle, and cut or heal links.

use super::{list, Script, Sel, SETTLE_ROUNDS};
use sim::app::Application;
use sim::world::scripted::Held;

impl<A: Application> Script<A> {
    /// Delivers every in-flight message `sel` matches, in send order (what they cause stays
    /// in flight). Returns how many.
    pub fn deliver(&mut self, sel: Sel) -> usize {
        self.begin(format!("deliver {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_deliver(id);
        }
        self.end();
        ids.len()
    }

    /// Delivers the first in-flight message `sel` matches (in send order), if any.
    pub fn deliver_first(&mut self, sel: Sel) -> bool {
        self.begin(format!("deliver the first {}", sel.describe()));
        let first = self.ids(sel).first().copied();
        if let Some(id) = first {
            self.w().script_deliver(id);
        }
        self.end();
        first.is_some()
    }

    /// Drops every in-flight message `sel` matches.
    pub fn drop(&mut self, sel: Sel) -> usize {
        self.begin(format!("drop {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_drop(id);
        }
        self.end();
        ids.len()
    }

    /// Puts a second copy of every matching message on the wire.
    pub fn duplicate(&mut self, sel: Sel) -> usize {
        self.begin(format!("duplicate {}", sel.describe()));
        let ids = self.ids(sel);
        for &id in &ids {
            self.w().script_duplicate(id);
        }
        self.end();
        ids.len()
    }

    /// Takes matching messages off the wire, to deliver later with [`Script::release`] (a
    /// delay): until then no step delivers them, and a cut made meanwhile does not reach
    /// them.
    pub fn hold(&mut self, sel: Sel) -> Vec<Held> {
        self.begin(format!("hold back {}", sel.describe()));
        let held = self
            .ids(sel)
            .into_iter()
            .filter_map(|id| self.w().script_take(id))
            .collect();
        self.end();
        held
    }

    /// Puts a second copy of every matching message aside, to arrive later with
    /// [`Script::release`] (a redelivery); the originals stay on the wire.
    pub fn hold_copy(&mut self, sel: Sel) -> Vec<Held> {
        self.begin(format!("hold back a copy of {}", sel.describe()));
        let copies = self
            .ids(sel)
            .into_iter()
            .filter_map(|id| self.w().script_duplicate(id))
            .collect::<Vec<u64>>();
        let held = copies
            .into_iter()
            .filter_map(|copy| self.w().script_take(copy))
            .collect();
        self.end();
        held
    }

    /// Delivers messages taken with [`Script::hold`] (each once: they are consumed), in
    /// order, after whatever happened meanwhile (a cut link still loses them at delivery).
    pub fn release(&mut self, held: Vec<Held>) {
        let ids: Vec<String> = held.iter().map(|h| format!("m{}", h.id)).collect();
        self.begin(format!("release {}", ids.join(",")));
        for h in held {
            let id = h.id;
            self.w().script_put_back(h);
            self.w().script_deliver(id);
        }
        self.end();
    }

    /// Runs until quiet: completes I/O (not on stalled disks) and delivers messages until
    /// nothing is left.
    pub fn settle(&mut self) {
        self.begin("settle".into());
        self.w().script_settle(SETTLE_ROUNDS);
        self.end();
    }

    /// Cuts both directions between every pair across the groups (a partition).
    pub fn partition(&mut self, groups: &[&[usize]]) {
        let text: Vec<String> = groups.iter().map(|g| list(g)).collect();
        self.begin(format!("partition {}", text.join(" | ")));
        for (i, a) in groups.iter().enumerate() {
            for b in groups.iter().skip(i + 1) {
                for &x in a.iter() {
                    for &y in b.iter() {
                        self.w().script_cut(x, y, true);
                        self.w().script_cut(y, x, true);
                    }
                }
            }
        }
        self.end();
    }

    /// Cuts `node` off from every other node.
    pub fn isolate(&mut self, node: usize) {
        self.begin(format!("isolate n{node}"));
        for other in (0..self.nodes()).filter(|&o| o != node) {
            self.w().script_cut(node, other, true);
            self.w().script_cut(other, node, true);
        }
        self.end();
    }

    /// Cuts the link between `a` and `b` in both directions (a partial partition).
    pub fn cut(&mut self, a: usize, b: usize) {
        self.begin(format!("cut n{a}<->n{b}"));
        self.w().script_cut(a, b, true);
        self.w().script_cut(b, a, true);
        self.end();
    }

    pub fn heal(&mut self) {
        self.begin("heal".into());
        self.w().script_heal();
        self.end();
    }
}
