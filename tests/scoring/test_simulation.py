"""Validation of the scoring method by simulation, with fixed seeds: the targets of docs/scoring.md."""

import json

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.scoring import calibration, irt, statistics
from apps.scoring.simulation import Design, items_generate, responses_simulate, validate


@pytest.fixture(scope="module")
def three_pl():
    return validate(Design(generator="3pl", candidates=5000, items=50))


def test_3pl_pipeline_is_within_reach_of_the_oracle(three_pl):
    report, oracle = three_pl, three_pl["oracle"]

    assert report["accuracy"] >= 0.89
    assert abs(report["accuracy"] - oracle["accuracy"]) <= 0.015
    assert abs(report["rmse"] - oracle["rmse"]) <= 0.05
    for band, bias in report["bias_by_band"].items():
        assert abs(bias - oracle["bias_by_band"][band]) <= 0.10, band


def test_a_harder_form_gives_the_same_ability_the_same_score(three_pl):
    gaps, oracle = three_pl["form_gap_by_band"], three_pl["oracle"]["form_gap_by_band"]

    assert len(gaps) == 8  # 0.5-logit bands from -2 to +2
    for band, gap in gaps.items():
        assert abs(gap) <= 10, band
        assert abs(gap - oracle[band]) <= 5, band


def test_domain_labels_of_a_full_mock_mostly_decide(three_pl):
    labels = three_pl["domain_labels"]

    assert labels["unsure"] <= 0.30
    assert labels["wrong_of_decided"] <= 0.10


def test_sparse_calibration_recovers_3pl_difficulties():
    report = validate(Design(generator="3pl", candidates=300, items=480, per_candidate=50, repeats=3))

    assert report["calibration_r"] >= 0.90
    assert all(run["calibration_r"] >= 0.90 for run in report["runs"])


def test_rasch_data_are_scored_as_well_as_the_oracle_allows():
    report = validate(Design(generator="rasch", candidates=2000, items=50, repeats=2))

    assert abs(report["accuracy"] - report["oracle"]["accuracy"]) <= 0.015
    assert abs(report["rmse"] - report["oracle"]["rmse"]) <= 0.05


def test_scoring_validate_prints_the_keys_as_json(capsys):
    call_command("scoring_validate", "--candidates", "400", "--items", "20", "--repeats", "1", "--json")

    report = json.loads(capsys.readouterr().out)
    for key in ("rmse", "accuracy", "false_pass", "false_fail", "bias_by_band", "form_gap_by_band"):
        assert key in report
        assert key in report["oracle"]
    assert list(report["bias_by_band"]) == [f"{-2 + 0.5 * i:+.1f}..{-1.5 + 0.5 * i:+.1f}" for i in range(8)]


def test_scoring_validate_prints_a_table(capsys):
    call_command("scoring_validate", "--candidates", "300", "--items", "20", "--repeats", "1")

    out = capsys.readouterr().out
    assert "platform" in out
    assert "oracle" in out
    assert "-2.0..-1.5" in out


@pytest.mark.parametrize(
    "args",
    [["--candidates", "3"], ["--items", "10", "--per-candidate", "11"], ["--cut", "4"], ["--repeats", "0"]],
)
def test_scoring_validate_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        call_command("scoring_validate", *args)


def test_calibration_leaves_out_extreme_and_thin_items():
    rng = np.random.default_rng(4)
    bank = items_generate("3pl", 30, rng)
    x = responses_simulate(rng.normal(0, 1, 400), bank, rng)
    x[:, 0] = 1  # everybody right
    x[:, 1] = 0  # everybody wrong
    answered = np.ones_like(x, dtype=bool)
    answered[10:, 2] = False  # seen by ten candidates only
    features = np.tile([0.0, 1.0, 0.0, 0.0], (30, 1))

    fit = calibration.mml_calibrate(x, answered, floors=np.full(30, 0.2), features=features, min_responses=20)

    assert not fit.fitted[:3].any()
    assert fit.fitted[3:].all()
    assert np.allclose(fit.b_se[:3], fit.prior.tau)  # they keep the prior, with its spread
    assert np.all(np.abs(fit.b) < 5)


def test_guessing_floors_by_item_type():
    assert calibration.guessing_floor("single", 4) == pytest.approx(0.2)
    assert calibration.guessing_floor("multiple", 5, 2) == pytest.approx(0.08)
    assert calibration.guessing_floor("ordering", 4) == pytest.approx(0.8 / 24)


def test_a_miskeyed_item_gets_negative_discrimination():
    rng = np.random.default_rng(3)
    bank = irt.Items.rasch(rng.normal(0, 1, 50))
    x = responses_simulate(rng.normal(0, 1, 600), bank, rng)
    x[:, 17] = 1 - x[:, 17]  # the key marks the wrong option right
    total = x.sum(axis=1)

    flagged = []
    for item in range(50):
        analysis = statistics.item_analysis(x[:, item], total - x[:, item])
        if analysis.discrimination < statistics.MISKEY_BELOW:
            flagged.append(item)

    assert flagged == [17]


def test_eap_is_finite_for_all_right_and_all_wrong():
    items = irt.Items(np.ones(50), np.linspace(-2, 2, 50), np.full(50, 0.2))
    high = irt.eap(np.ones(50), items)
    low = irt.eap(np.zeros(50), items)
    assert 1.5 < high.theta < 5
    assert -5 < low.theta < -1.0
    assert high.se > 0


def test_guessing_lowers_what_a_right_answer_proves():
    x = np.array([1, 1, 0, 0, 1, 0, 0, 0, 1, 0], dtype=float)
    b = np.linspace(-1, 1, 10)
    rasch = irt.eap(x, irt.Items.rasch(b))
    guessing = irt.eap(x, irt.Items(np.ones(10), b, np.full(10, 0.25)))
    assert guessing.theta < rasch.theta


def test_uncertain_difficulty_flattens_the_slope():
    assert irt.uncertain_slope(np.array([1.0]), np.array([0.0]))[0] == pytest.approx(1.0)
    assert irt.uncertain_slope(np.array([1.0]), np.array([0.8]))[0] < 0.9


def test_cut_score_solves_the_test_characteristic_curve():
    items = irt.Items(np.array([1.0, 1.2, 0.8, 1.0]), np.array([-1.0, 0.0, 1.0, 0.5]), np.full(4, 0.2))
    angoff = np.array([0.8, 0.6, 0.4, 0.5])

    cut = irt.cut_theta(items, angoff)

    assert abs(irt.probability(cut, items).sum() - angoff.sum()) < 1e-6


@pytest.mark.parametrize("rating", [0.95, 0.05, 0.2])
def test_cut_score_stays_inside_the_scale_whatever_the_ratings(rating):
    items = irt.Items(np.ones(10), np.zeros(10), np.full(10, 0.2))

    cut = irt.cut_theta(items, np.full(10, rating))
    scale = irt.Scale(cut=cut)

    assert irt.CUT_RANGE[0] <= cut <= irt.CUT_RANGE[1]
    assert 100 <= scale.scaled(cut + 1) <= 1000
    assert 100 <= scale.scaled(cut - 1) <= 1000


def test_scale_refuses_to_divide_by_zero_at_the_edge():
    scale = irt.Scale(cut=3.0)
    assert scale.cut == irt.CUT_RANGE[1]
    assert scale.scaled(2.9) > 720


def test_scale_pins_the_cut_at_720_and_clips():
    scale = irt.Scale(cut=0.4)
    assert scale.scaled(0.4) == 720
    assert scale.scaled(3.0) == 1000
    assert scale.scaled(-9) == 100
    assert scale.scaled(0.39) < 720 < scale.scaled(0.41)
    assert scale.band(0.4, 0.3) == (scale.scaled(0.1), scale.scaled(0.7))


def test_sub_scores_lean_on_the_rest_of_the_form():
    items = irt.Items(np.ones(40), np.zeros(40), np.full(40, 0.2))
    x = np.ones(40)
    x[:4] = 0  # all four items of the domain wrong, the other 36 right
    inside = np.zeros(40, dtype=bool)
    inside[:4] = True

    theta, _se = irt.subscores(x, items, inside)
    alone = irt.eap(x[:4], items.take(inside))

    assert theta[0] > alone.theta + 1  # the rest pulls it up
    labels, chance = irt.classify(np.array([1.0, -1.0, 0.0]), np.array([0.3, 0.3, 0.5]), 0.0)
    assert labels.tolist() == ["meets", "needs", "unsure"]
    assert chance[2] == pytest.approx(0.5)


def test_rudner_pass_probability():
    assert abs(irt.pass_probability(0.4, 0.3, 0.4) - 0.5) < 1e-9
    assert irt.pass_probability(1.0, 0.3, 0.4) > 0.97


def test_wilson_interval_for_four_of_six():
    low, high = irt.wilson_interval(4, 6)
    assert abs(low - 0.30) < 0.01
    assert abs(high - 0.90) < 0.01
