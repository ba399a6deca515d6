//! A single integer register with read, write and compare-and-set.

use super::Model;

/// A register request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    /// Reads the value. Answers [`RegisterOutput::Value`].
    Read,
    /// Sets the value. Answers [`RegisterOutput::Ok`].
    Write(i64),
    /// Sets the value to `to` if it is `from`. Answers [`RegisterOutput::Ok`] if it swapped,
    /// [`RegisterOutput::Fail`] if the value was not `from` (nothing changes).
    Cas { from: i64, to: i64 },
}

/// A register response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// The value a read returned (`None`: absent, the state before any write).
    Value(Option<i64>),
    /// Write done or compare-and-set swapped.
    Ok,
    /// Compare-and-set failed its comparison.
    Fail,
    /// No answer is known: the request may or may not have taken effect. A read with an unknown
    /// answer constrains nothing and is ignored.
    Unknown,
}

/// One register, as in porcupine's `etcdModel` and Knossos's `cas-register`. The state is the
/// value, `None` meaning absent.
///
/// * porcupine / Jepsen etcd data: [`RegisterModel::new`]`(None)` (absent at first; `nil`
///   reads mean absent; a `:fail` CAS means the comparison failed).
/// * Knossos `(cas-register 0)`: [`RegisterModel::new`]`(Some(0))`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterModel {
    /// The initial value (`None`: absent).
    pub initial: Option<i64>,
}

impl RegisterModel {
    /// A register starting at `initial` (`None`: absent).
    pub fn new(initial: Option<i64>) -> Self {
        RegisterModel { initial }
    }
}

impl Model for RegisterModel {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        self.initial
    }

    fn step(
        &self,
        &state: &Option<i64>,
        input: &RegisterInput,
        output: &RegisterOutput,
    ) -> Option<Option<i64>> {
        use RegisterInput as I;
        use RegisterOutput as O;
        match (*input, *output) {
            (I::Read, O::Value(v)) => (state == v).then_some(state),
            (I::Read, O::Unknown) => Some(state),
            (I::Write(v), O::Ok) => Some(Some(v)),
            (I::Write(v), O::Unknown) => (state != Some(v)).then_some(Some(v)),
            (I::Cas { from, to }, O::Ok) => (state == Some(from)).then_some(Some(to)),
            (I::Cas { from, .. }, O::Fail) => (state != Some(from)).then_some(state),
            (I::Cas { from, to }, O::Unknown) => {
                (state == Some(from) && from != to).then_some(Some(to))
            }
            _ => None,
        }
    }

    fn is_unknown(&self, _input: &RegisterInput, output: &RegisterOutput) -> bool {
        *output == RegisterOutput::Unknown
    }

    fn is_trivial(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        *input == RegisterInput::Read && *output == RegisterOutput::Unknown
    }

    fn is_read_only(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        *input == RegisterInput::Read
            || (matches!(input, RegisterInput::Cas { .. }) && *output == RegisterOutput::Fail)
    }

    fn fixed_result(&self, input: &RegisterInput, output: &RegisterOutput) -> Option<Option<i64>> {
        match (*input, *output) {
            (RegisterInput::Write(v), RegisterOutput::Ok | RegisterOutput::Unknown)
            | (RegisterInput::Cas { to: v, .. }, RegisterOutput::Ok | RegisterOutput::Unknown) => {
                Some(Some(v))
            }
            _ => None,
        }
    }

    /// Nothing extends a register: a read is legal only in the state it read.
    fn may_become_legal(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: &RegisterOutput,
    ) -> bool {
        match (*input, *output) {
            (RegisterInput::Read, RegisterOutput::Value(v)) => *state == v,
            _ => true,
        }
    }

    fn describe_operation(&self, input: &RegisterInput, output: &RegisterOutput) -> String {
        let request = match input {
            RegisterInput::Read => "read".to_string(),
            RegisterInput::Write(v) => format!("write({v})"),
            RegisterInput::Cas { from, to } => format!("cas({from} -> {to})"),
        };
        let response = match output {
            RegisterOutput::Value(None) => "absent".to_string(),
            RegisterOutput::Value(Some(v)) => v.to_string(),
            RegisterOutput::Ok => "ok".to_string(),
            RegisterOutput::Fail => "fail".to_string(),
            RegisterOutput::Unknown => "unknown".to_string(),
        };
        format!("{request} -> {response}")
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        match state {
            None => "absent".to_string(),
            Some(v) => v.to_string(),
        }
    }
}
