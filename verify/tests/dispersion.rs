//! The per-window / per-client homogeneity test: reference values, its
//! false-alarm rate under independent routing, and the round-robin case.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use verify::dispersion::homogeneity;
use verify::exact::multinomial;

fn labels(k: usize) -> Vec<String> {
    (0..k).map(|i| format!("t{i}")).collect()
}

/// Reference computed independently in plain Python (no scipy on the
/// machine): the statistic from its definition, the df = 3 survival
/// function from its closed form `erfc(√(x/2)) + √(2x/π) e^{−x/2}`:
///
/// ```text
/// python3 -c "import math; t=[[95,905],[110,890],[130,870],[88,912]]; \
///   R=[sum(r) for r in t]; C=[sum(c) for c in zip(*t)]; N=sum(R); \
///   x=sum((t[i][j]-R[i]*C[j]/N)**2/(R[i]*C[j]/N) for i in range(4) for j in range(2)); \
///   print(x, math.erfc(math.sqrt(x/2))+math.sqrt(2*x/math.pi)*math.exp(-x/2))"
/// 10.963133917707761 0.011926903888694006
/// ```
#[test]
fn matches_the_reference() {
    let table = vec![vec![95, 905], vec![110, 890], vec![130, 870], vec![88, 912]];
    let h = homogeneity("window", &labels(2), &table).expect("test");
    assert_eq!(h.df, 3);
    assert!(
        (h.statistic - 10.963_133_917_707_761).abs() < 1e-9,
        "{}",
        h.statistic
    );
    assert!(
        (h.p_value - 0.011_926_903_888_694_006).abs() < 1e-9,
        "{}",
        h.p_value
    );
    assert!((h.dispersion - h.statistic / 3.0).abs() < 1e-12);
}

#[test]
fn empty_rows_and_columns_are_left_out() {
    let table = vec![vec![0, 0, 0], vec![10, 90, 0], vec![12, 88, 0]];
    let h = homogeneity("window", &labels(3), &table).expect("test");
    assert_eq!((h.rows, h.df), (2, 1));
    assert_eq!(h.targets, vec!["t0".to_owned(), "t1".to_owned()]);
    assert!(
        homogeneity("window", &labels(2), &[vec![5, 5]]).is_none(),
        "one row: nothing to compare"
    );
}

/// Independent routing: 2000 simulated runs of 10 windows × 3000 requests,
/// per weight set. The test rejects at 0.01 about 20 times in 2000
/// (sd ≈ 4.5); the bound 40 is more than four sd above the mean.
#[test]
fn independent_routing_rarely_looks_heterogeneous() {
    for (case, probs) in [vec![0.1, 0.9], vec![0.5, 0.5], vec![0.40, 0.35, 0.25]]
        .iter()
        .enumerate()
    {
        let mut rng = ChaCha8Rng::seed_from_u64(500 + case as u64);
        let mut rejections = 0;
        let mut mean_dispersion = 0.0;
        for _ in 0..2000 {
            let table: Vec<Vec<u64>> = (0..10)
                .map(|_| {
                    let mut row = vec![0; probs.len()];
                    multinomial(&mut rng, 3000, probs, &mut row);
                    row
                })
                .collect();
            let h = homogeneity("window", &labels(probs.len()), &table).expect("test");
            if h.p_value < 0.01 {
                rejections += 1;
            }
            mean_dispersion += h.dispersion / 2000.0;
        }
        assert!(
            rejections <= 40,
            "{probs:?}: {rejections} of 2000 rejected at 0.01"
        );
        assert!(
            (mean_dispersion - 1.0).abs() < 0.05,
            "{probs:?}: mean dispersion {mean_dispersion}"
        );
    }
}

/// A weighted round-robin router: every window exactly on the weights.
#[test]
fn round_robin_gets_a_note_not_an_alarm() {
    let table: Vec<Vec<u64>> = (0..10).map(|i| vec![300 + i % 2, 2700 - i % 2]).collect();
    let h = homogeneity("window", &labels(2), &table).expect("test");
    assert!(h.dispersion < 0.01);
    assert!(h.p_value > 0.99);
    let note = h.note(0.001).expect("a note");
    assert!(note.contains("deterministic router"), "{note}");
}

/// A split that moves between windows by 4 points (8 % then 12 %) at 3000
/// per window (noncentrality about 133 on 9 df: power ≈ 1 at 0.001) is
/// caught (dispersion far above 1).
#[test]
fn a_moving_split_is_caught() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let table: Vec<Vec<u64>> = (0..10)
        .map(|i| {
            let p = if i < 5 { 0.08 } else { 0.12 };
            let mut row = vec![0; 2];
            multinomial(&mut rng, 3000, &[p, 1.0 - p], &mut row);
            row
        })
        .collect();
    let h = homogeneity("window", &labels(2), &table).expect("test");
    assert!(h.p_value < 1e-3, "p = {}", h.p_value);
    assert!(
        h.note(0.001)
            .expect("note")
            .contains("differs between time windows")
    );
}
