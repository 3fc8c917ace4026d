//! A real Burn training run (burn-train 0.21.0, the Flex CPU backend with
//! autodiff) logging through `TensorBoardMetricLogger`, read back with
//! `tbseg::reader`: the train and valid runs hold the per-iteration and
//! per-epoch loss at the expected steps, and the logger alone serves Burn's
//! checkpoint selection. Needs `--features burn`.

#[path = "../examples/burn_logging.rs"]
#[allow(dead_code)]
mod burn_logging;

use tbseg::reader::Logdir;

/// Per-epoch means recomputed from the logged per-iteration values.
fn means_per_epoch(points: &[(i64, f32)], per_epoch: usize) -> Vec<f64> {
    points
        .chunks(per_epoch)
        .map(|c| c.iter().map(|&(_, v)| f64::from(v)).sum::<f64>() / c.len() as f64)
        .collect()
}

#[test]
fn learner_writes_train_and_valid_runs_with_iteration_and_epoch_steps() {
    let dir = tempfile::tempdir().unwrap();
    let logdir = dir.path().join("tb");
    // 3 epochs; 24 train and 8 valid samples in batches of 4.
    let (epochs, train_batches, valid_batches) = (3, 6, 2);
    burn_logging::train(&logdir, &dir.path().join("artifacts"), epochs).unwrap();

    let logdir = Logdir::scan(&logdir).unwrap();
    let mut runs: Vec<&str> = logdir.runs.keys().map(String::as_str).collect();
    runs.sort();
    assert_eq!(runs, ["train", "valid"]);
    for (run, batches) in [("train", train_batches), ("valid", valid_batches)] {
        let run_data = &logdir.runs[run];
        let loss = run_data
            .scalars("Loss")
            .unwrap_or_else(|| panic!("{run}: no Loss"));
        let steps: Vec<i64> = loss.iter().map(|p| p.0).collect();
        assert_eq!(
            steps,
            (1..=(epochs * batches) as i64).collect::<Vec<_>>(),
            "{run} iterations"
        );
        assert!(
            loss.iter().all(|p| p.1.is_finite() && p.1 >= 0.0),
            "{run}: {loss:?}"
        );

        let epoch_loss = run_data
            .scalars("epoch/Loss")
            .unwrap_or_else(|| panic!("{run}: no epoch/Loss"));
        let epoch_steps: Vec<i64> = epoch_loss.iter().map(|p| p.0).collect();
        assert_eq!(
            epoch_steps,
            [1, 2, 3],
            "{run}: one point per epoch, at the epoch number"
        );
        // Every batch holds 4 samples, so the weighted mean is the plain
        // mean of the iterations' values.
        for (got, want) in epoch_loss.iter().zip(means_per_epoch(&loss, batches)) {
            assert!(
                (f64::from(got.1) - want).abs() <= 1e-5 * want.max(1.0),
                "{run}: {got:?} vs {want}"
            );
        }
    }
    // Only train has the learning rate; the regression learns.
    let train = &logdir.runs["train"];
    assert_eq!(
        train.scalars("Learning Rate").map(|p| p.len()),
        Some(epochs * train_batches)
    );
    assert!(logdir.runs["valid"].scalars("Learning Rate").is_none());
    let valid = logdir.runs["valid"].scalars("epoch/Loss").unwrap();
    assert!(valid[2].1 < valid[0].1 * 0.5, "valid loss falls: {valid:?}");
}
