"""Validation of the scoring method by simulation, with fixed seeds (larger runs live in bench/)."""

import numpy as np

from apps.scoring import irt, statistics
from apps.scoring.simulation import recovery_check, responses_simulate, sparse_responses


def test_ability_is_recovered_and_pass_fail_classified_on_a_65_item_form():
    rng = np.random.default_rng(2026)
    b = rng.normal(0, 1, 65)
    theta = rng.normal(0, 1, 2000)

    report = recovery_check(theta=theta, b=b, cut=0.3, rng=rng)

    assert report.rmse <= 0.35, report
    assert report.accuracy >= 0.90, report


def test_easy_and_hard_forms_give_the_same_scaled_score_for_the_same_candidates():
    rng = np.random.default_rng(7)
    base = rng.normal(0, 1, 65)
    theta = rng.normal(0, 1, 2000)

    easy = recovery_check(theta=theta, b=base - 0.25, cut=0.3, rng=np.random.default_rng(1))
    hard = recovery_check(theta=theta, b=base + 0.25, cut=0.3, rng=np.random.default_rng(2))

    assert abs(easy.mean_scaled - hard.mean_scaled) <= 15, (easy, hard)


def test_calibration_recovers_difficulties_from_1000_responses_per_item():
    rng = np.random.default_rng(11)
    persons, items, scores, _, b_true = sparse_responses(n_persons=3100, n_items=200, per_person=65, rng=rng)

    calibration = irt.rasch_calibrate(persons, items, scores, n_persons=3100, n_items=200)

    assert calibration.n.min() >= 850
    assert np.corrcoef(calibration.b, b_true)[0, 1] >= 0.95
    assert np.all(calibration.b_se < 0.15)


def test_a_miskeyed_item_gets_negative_discrimination():
    rng = np.random.default_rng(3)
    b = rng.normal(0, 1, 50)
    x = responses_simulate(rng.normal(0, 1, 600), b, rng)
    x[:, 17] = 1 - x[:, 17]  # the key marks the wrong option right
    total = x.sum(axis=1)

    flagged = []
    for item in range(50):
        analysis = statistics.item_analysis(x[:, item], total - x[:, item])
        if analysis.discrimination < statistics.MISKEY_BELOW:
            flagged.append(item)

    assert flagged == [17]


def test_eap_is_finite_for_all_right_and_all_wrong():
    b = np.linspace(-2, 2, 50)
    high = irt.eap(np.ones(50), b)
    low = irt.eap(np.zeros(50), b)
    assert 1.5 < high.theta < 4.5
    assert -4.5 < low.theta < -1.5
    assert high.se > 0


def test_cut_score_solves_the_test_characteristic_curve():
    b = np.array([-1.0, 0.0, 1.0, 0.5])
    angoff = np.array([0.8, 0.6, 0.4, 0.5])

    cut = irt.cut_theta(b, angoff)

    assert abs(irt.probability(cut, b).sum() - angoff.sum()) < 1e-6


def test_scale_pins_the_cut_at_720_and_clips():
    scale = irt.Scale(cut=0.4)
    assert scale.scaled(0.4) == 720
    assert scale.scaled(3.0) == 1000
    assert scale.scaled(-9) == 100
    assert scale.scaled(0.39) < 720 < scale.scaled(0.41)


def test_rudner_pass_probability():
    assert abs(irt.pass_probability(0.4, 0.3, 0.4) - 0.5) < 1e-9
    assert irt.pass_probability(1.0, 0.3, 0.4) > 0.97


def test_wilson_interval_for_four_of_six():
    low, high = irt.wilson_interval(4, 6)
    assert abs(low - 0.30) < 0.01
    assert abs(high - 0.90) < 0.01
