//! Optimisers (`--optimizer`): the lab's plain SGD, SGD with momentum and
//! Adam. All of them follow the staircase learning-rate schedule.

use tch::nn::{self, Optimizer, OptimizerConfig};

/// Momentum of `--optimizer momentum` (the usual 0.9).
pub const MOMENTUM: f64 = 0.9;

/// Which update rule trains the network (`--optimizer`, default `sgd`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum OptimizerKind {
    /// Plain gradient descent, the lab's `GradientDescentOptimizer`.
    #[default]
    Sgd,
    /// Gradient descent with momentum 0.9 (`MomentumOptimizer`).
    Momentum,
    /// Adam with β₁ 0.9, β₂ 0.999, ε 1e-8 (use a learning rate near 1e-3).
    Adam,
}

impl OptimizerKind {
    /// The name used on the command line and in hparams.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Adam => "adam",
        }
    }

    /// The optimiser over every variable of `var_store`, starting at
    /// `learning_rate`.
    pub fn build(
        self,
        var_store: &nn::VarStore,
        learning_rate: f64,
    ) -> Result<Optimizer, tch::TchError> {
        match self {
            OptimizerKind::Sgd => nn::Sgd::default().build(var_store, learning_rate),
            OptimizerKind::Momentum => nn::Sgd {
                momentum: MOMENTUM,
                ..nn::Sgd::default()
            }
            .build(var_store, learning_rate),
            OptimizerKind::Adam => nn::Adam::default().build(var_store, learning_rate),
        }
    }
}

impl std::fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// Runs `steps` updates of `kind` on `f(w) = w²` from `w = 1` and
    /// returns `w` after each.
    fn trajectory(kind: OptimizerKind, learning_rate: f64, steps: usize) -> Vec<f64> {
        let store = nn::VarStore::new(Device::Cpu);
        let w = store.root().var("w", &[1], nn::Init::Const(1.0));
        let mut optimizer = kind.build(&store, learning_rate).unwrap();
        (0..steps)
            .map(|_| {
                optimizer.backward_step(&(&w * &w).sum(Kind::Float));
                w.double_value(&[0])
            })
            .collect()
    }

    #[test]
    fn each_rule_takes_its_documented_steps() {
        // SGD: w ← w − 0.1·2w = 0.8w.
        let sgd = trajectory(OptimizerKind::Sgd, 0.1, 2);
        assert!((sgd[0] - 0.8).abs() < 1e-6 && (sgd[1] - 0.64).abs() < 1e-6);
        // Momentum: v₁ = 2, w₁ = 0.8; v₂ = 0.9·2 + 1.6 = 3.4, w₂ = 0.46.
        let momentum = trajectory(OptimizerKind::Momentum, 0.1, 2);
        assert!((momentum[0] - 0.8).abs() < 1e-6, "{momentum:?}");
        assert!((momentum[1] - 0.46).abs() < 1e-6, "{momentum:?}");
        // Adam's first step is lr·sign(gradient), whatever its size.
        let adam = trajectory(OptimizerKind::Adam, 0.1, 1);
        assert!((adam[0] - 0.9).abs() < 1e-5, "{adam:?}");
    }
}
