//! The event loop: starts the run, pops events in (time, sequence number) order, hands each
//! to the room it belongs to, and stops at the end or at the first safety violation.
//!
//! Architecture invariant: this is the only place that knows which room handles which event,
//! and the only way the cluster's news reaches the policy rooms: the host calls
//! [`World::node_won`] and [`World::node_ready_to_lead`], which tell the operator and the
//! nemesis (while the faults last). A paused node's inputs are set aside here, before any
//! room sees them.

use super::events::Event;
use super::report::RunOptions;
use super::{RunReport, Status, World};
use crate::app::Application;
use crate::config::Micros;

impl<A: Application> World<A> {
    /// Runs to the end (or the first safety violation) and reports.
    pub fn run(
        mut self,
        options: &RunOptions,
        mut progress: impl FnMut(Micros, Micros),
    ) -> RunReport {
        for node in 0..self.config.nodes {
            self.start_node(node);
        }
        self.schedule_script();
        self.start_clients();
        self.schedule(self.liveness.starts_at(), Event::LivenessPhase);
        self.schedule(self.liveness.end_at(), Event::End);

        while let Some(next) = self.queue.pop() {
            self.now = next.at;
            self.stats.events += 1;
            if options.progress_every > 0
                && self.stats.events.is_multiple_of(options.progress_every)
            {
                progress(self.now, self.liveness.end_at());
            }
            // The end may have moved (later for a backlog or a repair, sooner once the probe
            // committed): only the End at the current end time ends the run.
            if matches!(next.event, Event::End) && self.now >= self.liveness.end_at() {
                if self.extend_for_repair() {
                    continue;
                }
                break;
            }
            self.handle(next.event);
            if self.checks.first_violation().is_some() {
                break;
            }
        }
        self.finish(options)
    }

    pub(super) fn handle(&mut self, event: Event<A>) {
        // A paused node's inputs wait for it.
        if let Some(node) = event.input_of() {
            if self.hosts[node].status == Status::Paused {
                if !matches!(event, Event::Tick { .. }) {
                    self.hosts[node].paused_inbox.push_back(event);
                }
                return;
            }
        }
        match event {
            Event::Tick { node, incarnation } => self.on_tick(node, incarnation),
            Event::Deliver {
                from,
                to,
                bytes,
                departs,
            } => self.deliver(from, to, bytes, departs),
            Event::Ping { from, to } => self.on_ping(from, to),
            Event::Rename {
                node,
                incarnation,
                bytes,
                file,
            } => self.on_rename(node, incarnation, bytes, file),
            Event::PersistDone {
                node,
                incarnation,
                id,
            } => self.on_persist_done(node, incarnation, id),
            Event::LogRead {
                node,
                incarnation,
                from,
                to,
            } => self.on_log_read(node, incarnation, from, to),
            Event::Fault(i) => self.on_fault(i),
            Event::MembershipAtLeader { node, incarnation } => {
                self.on_membership_at_leader(node, incarnation)
            }
            Event::OperatorRetry => self.on_operator_retry(),
            Event::RescuePoll => self.on_rescue_poll(),
            Event::Restart { node, incarnation } => self.on_restart(node, incarnation),
            Event::Resume { node, incarnation } => self.resume(node, incarnation),
            Event::Kill {
                node,
                incarnation,
                down_us,
            } => self.on_kill(node, incarnation, down_us),
            Event::ResumeApply { node, incarnation } => {
                if self.hosts[node].incarnation == incarnation {
                    self.resume_apply(node);
                }
            }
            Event::CheckpointDue {
                node,
                incarnation,
                finish,
            } => self.checkpoint_due(node, incarnation, finish),
            Event::ClientWake { client } => self.client_issue(client),
            Event::ClientRequest {
                node,
                client,
                seq,
                attempt,
                part,
                op,
            } => self.on_client_request(node, client, seq, attempt, part, op),
            Event::ClientReply {
                client,
                seq,
                attempt,
                reply,
            } => self.on_client_reply(client, seq, attempt, reply),
            Event::ClientTimeout {
                client,
                seq,
                attempt,
            } => self.on_client_timeout(client, seq, attempt),
            Event::ClientRetry {
                client,
                seq,
                attempt,
            } => self.on_client_retry(client, seq, attempt),
            Event::LivenessPhase => self.begin_liveness_phase(),
            Event::End => {}
        }
    }

    /// The host reports that `node` won an election (after the checkers saw it): while the
    /// faults last, the operator offers it the held change and leader churn arms its crash.
    pub(super) fn node_won(&mut self, node: usize) {
        if !self.liveness.started() {
            self.offer_held_change(node);
            self.churn_on_win(node);
        } else {
            self.liveness_node_won(node);
        }
    }

    /// The host reports that `node` submitted a persist that writes log entries and a new
    /// term together: while the faults last, an armed mid-write power loss takes it.
    pub(super) fn node_writes_log_and_term(&mut self, node: usize) {
        if !self.liveness.started() {
            self.crash_mid_write(node);
        }
    }

    /// The host reports that `node`, a leader, is ready to lead (its no-op for the term is
    /// committed): a change it refused when it won goes in now.
    pub(super) fn node_ready_to_lead(&mut self, node: usize) {
        self.offer_held_change(node);
    }
}
