//! Hyper-parameter sweeps (`tbseg sweep`): the grid of trials, their run
//! folders and their results, without any training code.
//!
//! A sweep is a list of axes, each a training flag with one or more values
//! (`--learning_rate 0.01,0.03`); the trials are the product of the axes,
//! the last axis varying fastest. Each trial trains in its own folder under
//! the sweep's logdir, named by its number and the values that vary
//! (`003-learning_rate=0.03-loss=dice`), so a rerun of the same command finds
//! it again: a folder with a `sweep_result.txt` is a finished trial and is
//! not run again.

use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The file in a trial's folder that marks it finished and holds its
/// result.
pub const RESULT_FILE: &str = "sweep_result.txt";

/// What can be wrong with a sweep's definition or its files.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SweepError {
    /// A token that is not a `--flag`, where one was expected.
    #[error("sweep: expected a training flag such as --learning_rate, found `{token}`")]
    NotAFlag {
        /// The token.
        token: String,
    },
    /// A flag without its value(s).
    #[error("sweep: --{flag} needs a value (or comma-separated values)")]
    MissingValue {
        /// The flag, without dashes.
        flag: String,
    },
    /// The same flag twice.
    #[error("sweep: --{flag} is given twice; list its values once, comma-separated")]
    Repeated {
        /// The flag, without dashes.
        flag: String,
    },
    /// A sweep file that cannot be used.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// One swept flag and its values, as written on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The flag without dashes, as given (`learning_rate`).
    pub flag: String,
    /// Its values, in order.
    pub values: Vec<String>,
}

/// The flag with dashes and underscores unified, so `--num-epochs` and
/// `--num_epochs` are the same axis.
fn canonical(flag: &str) -> String {
    flag.replace('-', "_")
}

/// Adds `other` axes to `axes`; a flag already present is an error.
pub fn merge_axes(axes: &mut Vec<Axis>, other: Vec<Axis>) -> Result<(), SweepError> {
    for axis in other {
        if axes
            .iter()
            .any(|a| canonical(&a.flag) == canonical(&axis.flag))
        {
            return Err(SweepError::Repeated { flag: axis.flag });
        }
        axes.push(axis);
    }
    Ok(())
}

/// Reads axes from command-line tokens (`--flag v1,v2`, `--flag=v1,v2`, or
/// a bare `--switch`). `is_switch(flag)` says whether a flag takes no value;
/// a switch may still be swept as `--augment=true,false`.
pub fn parse_axes(
    tokens: &[String],
    is_switch: impl Fn(&str) -> bool,
) -> Result<Vec<Axis>, SweepError> {
    let mut axes = Vec::new();
    let mut tokens = tokens.iter().peekable();
    while let Some(token) = tokens.next() {
        let Some(flag) = token.strip_prefix("--").filter(|f| !f.is_empty()) else {
            return Err(SweepError::NotAFlag {
                token: token.clone(),
            });
        };
        let (flag, inline) = match flag.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (flag, None),
        };
        let value = match inline {
            Some(value) => value,
            None if is_switch(flag) => "true".to_string(),
            None => tokens
                .next_if(|next| !next.starts_with("--"))
                .cloned()
                .ok_or_else(|| SweepError::MissingValue {
                    flag: flag.to_string(),
                })?,
        };
        let values: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect();
        if values.is_empty() {
            return Err(SweepError::MissingValue {
                flag: flag.to_string(),
            });
        }
        merge_axes(
            &mut axes,
            vec![Axis {
                flag: flag.to_string(),
                values,
            }],
        )?;
    }
    Ok(axes)
}

/// Reads axes from a sweep file: a JSON object, or TOML (by the `.toml`
/// extension), mapping flag names to a value or a list of values, e.g.
/// `learning_rate = [0.01, 0.03]` and `model = "unet"`.
pub fn axes_from_file(path: &Path) -> Result<Vec<Axis>, SweepError> {
    let error = |reason: String| SweepError::File {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    let entries: Vec<(String, serde_json::Value)> = if is_toml {
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| error(format!("not valid TOML: {}", e.message())))?;
        let json = serde_json::to_value(table).map_err(|e| error(e.to_string()))?;
        json.as_object()
            .map(|o| o.clone().into_iter().collect())
            .unwrap_or_default()
    } else {
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(object)) => object.into_iter().collect(),
            Ok(_) => return Err(error("expected a JSON object of flag: values".into())),
            Err(e) => return Err(error(format!("not valid JSON: {e}"))),
        }
    };
    let scalar = |flag: &str, value: &serde_json::Value| match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(error(format!(
            "`{flag}`: expected a string, number or boolean, found {other}"
        ))),
    };
    let mut axes = Vec::new();
    for (flag, value) in entries {
        let values = match &value {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|item| scalar(&flag, item))
                .collect::<Result<Vec<_>, _>>()?,
            single => vec![scalar(&flag, single)?],
        };
        if values.is_empty() {
            return Err(error(format!("`{flag}`: empty list")));
        }
        merge_axes(&mut axes, vec![Axis { flag, values }])?;
    }
    Ok(axes)
}

/// One trial: its number and a value for every axis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trial {
    /// Position in the full grid (from 0), stable across reruns.
    pub index: usize,
    /// (flag, value) for every axis, in axis order.
    pub values: Vec<(String, String)>,
}

/// Every combination of the axes' values, the last axis fastest.
pub fn expand(axes: &[Axis]) -> Vec<Trial> {
    let mut combos: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for axis in axes {
        combos = combos
            .into_iter()
            .flat_map(|combo| {
                axis.values.iter().map(move |value| {
                    let mut next = combo.clone();
                    next.push((axis.flag.clone(), value.clone()));
                    next
                })
            })
            .collect();
    }
    combos
        .into_iter()
        .enumerate()
        .map(|(index, values)| Trial { index, values })
        .collect()
}

/// A random search: `count` trials of the grid drawn without repetition
/// by `seed` (all of them when the grid is smaller), in grid order.
pub fn sample(trials: Vec<Trial>, count: usize, seed: u64) -> Vec<Trial> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut picked = trials;
    picked.shuffle(&mut rng);
    picked.truncate(count);
    picked.sort_by_key(|t| t.index);
    picked
}

impl Trial {
    /// The folder name: the number, then `flag=value` for each flag that
    /// varies in the sweep (characters other than letters, digits and
    /// `.+-_=` become `_`).
    pub fn name(&self, axes: &[Axis]) -> String {
        let mut name = format!("{:03}", self.index);
        for ((flag, value), axis) in self.values.iter().zip(axes) {
            if axis.values.len() > 1 {
                name.push_str(&format!("-{flag}={value}"));
            }
        }
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".+-_=".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// The training flags of this trial: `--flag value`, a switch with
    /// value `true` as just `--flag` and with `false` left out.
    pub fn train_args(&self, is_switch: impl Fn(&str) -> bool) -> Vec<String> {
        let mut args = Vec::new();
        for (flag, value) in &self.values {
            if is_switch(flag) {
                if value != "false" {
                    args.push(format!("--{flag}"));
                }
            } else {
                args.push(format!("--{flag}"));
                args.push(value.clone());
            }
        }
        args
    }

    /// The value of `flag` (either spelling) in this trial.
    pub fn value(&self, flag: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(f, _)| canonical(f) == canonical(flag))
            .map(|(_, v)| v.as_str())
    }
}

/// A finished trial's result (`sweep_result.txt` in its folder).
#[derive(Clone, Debug, PartialEq)]
pub struct TrialResult {
    /// The metric's name (`Dice metric` or `precision`).
    pub metric: String,
    /// The metric of the last checkpoint.
    pub final_value: f64,
    /// The best validation value and its step (with `--eval_every`).
    pub best: Option<(f64, i64)>,
    /// Training steps run.
    pub steps: i64,
    /// Wall time of training and evaluation, in seconds.
    pub seconds: f64,
}

impl TrialResult {
    /// The value the ranking uses: the best validation when there is one,
    /// else the final metric.
    pub fn score(&self) -> f64 {
        self.best.map_or(self.final_value, |(value, _)| value)
    }

    /// Writes the result into `dir` atomically: a trial is finished only
    /// once its result is complete.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let mut text = format!(
            "metric={}\nfinal={}\nsteps={}\nseconds={:.1}\n",
            self.metric, self.final_value, self.steps, self.seconds
        );
        if let Some((value, step)) = self.best {
            text.push_str(&format!("best={value}\nbest_step={step}\n"));
        }
        tbseg::atomic::write(dir.join(RESULT_FILE), text.as_bytes())
    }

    /// Reads the result in `dir`; `None` when the trial has not finished
    /// (or its file is unreadable, which reruns it).
    pub fn read(dir: &Path) -> Option<TrialResult> {
        let text = std::fs::read_to_string(dir.join(RESULT_FILE)).ok()?;
        let field = |key: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        };
        let number = |key: &str| field(key)?.parse::<f64>().ok();
        let best = match (
            number("best"),
            field("best_step").and_then(|s| s.parse().ok()),
        ) {
            (Some(value), Some(step)) => Some((value, step)),
            _ => None,
        };
        Some(TrialResult {
            metric: field("metric")?.to_string(),
            final_value: number("final")?,
            best,
            steps: field("steps")?.parse().ok()?,
            seconds: number("seconds")?,
        })
    }
}

/// The trials of `trials` whose folder under `logdir` holds no result yet.
pub fn pending<'a>(trials: &'a [Trial], axes: &[Axis], logdir: &Path) -> Vec<&'a Trial> {
    trials
        .iter()
        .filter(|trial| TrialResult::read(&trial_dir(logdir, trial, axes)).is_none())
        .collect()
}

/// The folder of `trial` under `logdir`.
pub fn trial_dir(logdir: &Path, trial: &Trial, axes: &[Axis]) -> PathBuf {
    logdir.join(trial.name(axes))
}

/// Ranks results best first (higher score first; NaN last).
pub fn rank<T>(results: &mut [(T, TrialResult)]) {
    results.sort_by(|(_, a), (_, b)| {
        let (a, b) = (a.score(), b.score());
        match (a.is_nan(), b.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => b.total_cmp(&a),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn switch(flag: &str) -> bool {
        flag == "augment"
    }

    #[test]
    fn flags_expand_to_their_product_last_axis_fastest() {
        let axes = parse_axes(
            &tokens("--model cnn-dice --learning_rate 0.01,0.03 --loss=dice,cross-entropy --num-epochs 1 --augment"),
            switch,
        )
        .unwrap();
        assert_eq!(axes.len(), 5);
        assert_eq!(axes[1].values, ["0.01", "0.03"]);
        assert_eq!(axes[4].values, ["true"]);
        let trials = expand(&axes);
        assert_eq!(trials.len(), 4);
        let grid: Vec<(Option<&str>, Option<&str>)> = trials
            .iter()
            .map(|t| (t.value("learning_rate"), t.value("loss")))
            .collect();
        assert_eq!(
            grid,
            [
                (Some("0.01"), Some("dice")),
                (Some("0.01"), Some("cross-entropy")),
                (Some("0.03"), Some("dice")),
                (Some("0.03"), Some("cross-entropy")),
            ]
        );
        assert_eq!(trials[2].name(&axes), "002-learning_rate=0.03-loss=dice");
        assert_eq!(trials[0].value("num_epochs"), Some("1"));
        assert_eq!(
            trials[3].train_args(switch),
            tokens("--model cnn-dice --learning_rate 0.03 --loss cross-entropy --num-epochs 1 --augment")
        );
        let off = Trial {
            index: 0,
            values: vec![("augment".into(), "false".into())],
        };
        assert!(off.train_args(switch).is_empty());
    }

    #[test]
    fn bad_command_lines_name_the_problem() {
        assert_eq!(
            parse_axes(&tokens("--learning_rate"), switch),
            Err(SweepError::MissingValue {
                flag: "learning_rate".into()
            })
        );
        assert_eq!(
            parse_axes(&tokens("0.01"), switch),
            Err(SweepError::NotAFlag {
                token: "0.01".into()
            })
        );
        let err = parse_axes(&tokens("--num_epochs 1 --num-epochs 2"), switch).unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
    }

    #[test]
    fn sweep_files_in_json_and_toml_give_the_same_axes() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("sweep.json");
        std::fs::write(
            &json,
            r#"{"learning_rate": [0.01, 0.03], "model": "unet", "augment": [true, false]}"#,
        )
        .unwrap();
        let toml = dir.path().join("sweep.toml");
        std::fs::write(
            &toml,
            "learning_rate = [0.01, 0.03]\nmodel = \"unet\"\naugment = [true, false]\n",
        )
        .unwrap();
        let sorted = |mut axes: Vec<Axis>| {
            axes.sort_by(|a, b| a.flag.cmp(&b.flag));
            axes
        };
        let from_json = sorted(axes_from_file(&json).unwrap());
        assert_eq!(from_json, sorted(axes_from_file(&toml).unwrap()));
        assert_eq!(from_json[0].values, ["true", "false"]);
        assert_eq!(from_json[1].values, ["0.01", "0.03"]);
        assert_eq!(expand(&from_json).len(), 4);
        std::fs::write(&json, "[1, 2]").unwrap();
        let err = axes_from_file(&json).unwrap_err().to_string();
        assert!(
            err.contains("sweep.json") && err.contains("JSON object"),
            "{err}"
        );
    }

    #[test]
    fn finished_trials_are_not_pending_on_a_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let axes = parse_axes(&tokens("--learning_rate 0.01,0.02,0.03"), switch).unwrap();
        let trials = expand(&axes);
        assert_eq!(pending(&trials, &axes, dir.path()).len(), 3);
        let done = trial_dir(dir.path(), &trials[1], &axes);
        std::fs::create_dir_all(&done).unwrap();
        let result = TrialResult {
            metric: "Dice metric".into(),
            final_value: 0.81,
            best: Some((0.84, 462)),
            steps: 693,
            seconds: 12.5,
        };
        result.write(&done).unwrap();
        assert_eq!(TrialResult::read(&done), Some(result));
        // A trial that started but left no result (interrupted) runs again.
        std::fs::create_dir_all(trial_dir(dir.path(), &trials[2], &axes)).unwrap();
        let left: Vec<usize> = pending(&trials, &axes, dir.path())
            .iter()
            .map(|t| t.index)
            .collect();
        assert_eq!(left, [0, 2]);
    }

    #[test]
    fn ranking_puts_the_best_score_first_and_nan_last() {
        let result = |final_value: f64, best: Option<f64>| TrialResult {
            metric: "Dice metric".into(),
            final_value,
            best: best.map(|b| (b, 1)),
            steps: 1,
            seconds: 1.0,
        };
        let mut results = vec![
            ("a", result(0.7, None)),
            ("b", result(f64::NAN, None)),
            ("c", result(0.6, Some(0.9))),
            ("d", result(0.8, None)),
        ];
        rank(&mut results);
        let order: Vec<&str> = results.iter().map(|(n, _)| *n).collect();
        assert_eq!(order, ["c", "d", "a", "b"]);
    }

    #[test]
    fn random_search_draws_distinct_trials_reproducibly() {
        let axes = parse_axes(
            &tokens("--learning_rate 1,2,3,4 --batch_size 1,2,4"),
            switch,
        )
        .unwrap();
        let picked = sample(expand(&axes), 5, 7);
        assert_eq!(picked.len(), 5);
        let indices: Vec<usize> = picked.iter().map(|t| t.index).collect();
        assert!(indices.windows(2).all(|w| w[0] < w[1]), "{indices:?}");
        assert_eq!(picked, sample(expand(&axes), 5, 7));
        assert_eq!(sample(expand(&axes), 50, 7).len(), 12);
    }
}
