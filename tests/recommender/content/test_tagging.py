"""Stage tagging: zero-shot by description, supervised when enough labels, chosen by CV."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from recommender.content.classifiers import ZERO_SHOT, LabelTagger, ZeroShotClassifier, softmax
from recommender.content.tagging import (
    description_phrases,
    infer_terms,
    type_features,
    type_stage_affinity,
)

CLASSES = ["awareness", "consideration", "decision"]


def _unit(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _clusters(rng, centres, per_class, noise=0.3):
    X, y = [], []
    for label, centre in zip(CLASSES, centres, strict=True):
        X.append(_unit(centre + noise * rng.standard_normal((per_class, centre.size))))
        y += [label] * per_class
    return np.vstack(X), np.asarray(y)


def test_softmax_rows_and_temperature():
    scores = np.array([[0.3, 0.2, 0.1]])
    hot, cold = softmax(scores, 0.01), softmax(scores, 1.0)
    np.testing.assert_allclose(hot.sum(axis=1), 1.0)
    assert hot[0, 0] > cold[0, 0] > 1 / 3


def test_zero_shot_picks_nearest_description():
    protos = np.eye(3, 8, dtype=np.float32)
    X = _unit(np.eye(3, 8) + 0.1)[[2, 0, 1]]
    model = ZeroShotClassifier(protos, CLASSES, temperature=0.05).fit(X)
    assert model.predict(X).tolist() == ["decision", "awareness", "consideration"]
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert proba.max(axis=1).min() > 0.9


def test_zero_shot_ignores_extra_feature_columns():
    protos = np.eye(3, 4, dtype=np.float32)
    X = np.hstack([np.eye(3, 4, dtype=np.float32), np.full((3, 5), 9.0, np.float32)])
    model = ZeroShotClassifier(protos, CLASSES).fit(X)
    assert model.predict(X).tolist() == CLASSES


def test_few_labels_stay_zero_shot():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 16))
    X, y = _clusters(rng, centres, per_class=4)  # 12 labelled < 30
    tagger = LabelTagger(_unit(centres), CLASSES).fit(X, y)
    assert tagger.chosen_ == ZERO_SHOT
    assert tagger.n_labelled_ == 12
    assert set(tagger.cv_accuracy_) == {ZERO_SHOT}


def test_supervised_wins_when_descriptions_mislead():
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((3, 16))
    misleading = rng.standard_normal((3, 16))  # descriptions unrelated to the real clusters
    X, y = _clusters(rng, centres, per_class=15)
    tagger = LabelTagger(misleading, CLASSES, min_labelled=30, min_per_class=5).fit(X, y)
    assert tagger.chosen_ in ("logistic", "knn")
    assert tagger.cv_accuracy_[tagger.chosen_] > tagger.cv_accuracy_[ZERO_SHOT] + 0.2
    assert set(tagger.cv_accuracy_) == {ZERO_SHOT, "logistic", "knn"}
    labels, confidence = tagger.tag(X[:5])
    assert labels == y[:5].tolist()
    assert ((confidence > 0) & (confidence <= 1)).all()


def test_zero_shot_kept_when_descriptions_are_right():
    rng = np.random.default_rng(2)
    centres = rng.standard_normal((3, 16))
    X, y = _clusters(rng, centres, per_class=12, noise=0.05)
    tagger = LabelTagger(_unit(centres), CLASSES, candidates=("knn",)).fit(X, y)
    assert tagger.cv_accuracy_[ZERO_SHOT] == 1.0
    assert tagger.chosen_ == ZERO_SHOT  # ties go to the zero-shot


def test_a_class_short_of_examples_blocks_the_classifier():
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((3, 16))
    X, y = _clusters(rng, centres, per_class=20)
    keep = np.r_[0:20, 20:40, 40:44]  # only 4 decision examples
    tagger = LabelTagger(rng.standard_normal((3, 16)), CLASSES).fit(X[keep], y[keep])
    assert tagger.chosen_ == ZERO_SHOT


def test_estimator_conventions():
    tagger = LabelTagger(np.eye(3, 4), CLASSES, temperature=0.1)
    assert clone(tagger).get_params()["temperature"] == 0.1
    assert not hasattr(tagger, "chosen_")
    with pytest.raises(NotFittedError):
        tagger.predict_proba(np.eye(3, 4))
    assert tagger.fit(np.eye(3, 4)) is tagger


def test_bad_labels_and_shapes():
    with pytest.raises(ValueError, match="not among the classes"):
        LabelTagger(np.eye(3, 4), CLASSES).fit(np.eye(2, 4), ["awareness", "purchase"])
    with pytest.raises(ValueError, match="rows"):
        LabelTagger(np.eye(3, 4), CLASSES).fit(np.eye(2, 4), ["awareness"])
    with pytest.raises(ValueError, match="temperature"):
        ZeroShotClassifier(np.eye(3, 4), CLASSES, temperature=0).fit(np.eye(3, 4))


def test_type_features_one_hot():
    X = type_features(np.ones((2, 3)), ["faq", None], ["blog_post", "faq"], weight=0.5)
    assert X.shape == (2, 5)
    assert X[0, 3:].tolist() == [0.0, 0.5] and X[1, 3:].tolist() == [0.0, 0.0]


def test_infer_terms_relative_threshold():
    protos = np.eye(3, 4, dtype=np.float32)
    names = ["cfo", "cio", "security"]
    both = _unit([[1.0, 0.98, 0.0, 0.0]])
    one = _unit([[1.0, 0.2, 0.0, 0.0]])
    assert infer_terms(np.vstack([both, one]), protos, names, temperature=0.05,
                       relative=0.5) == [["cfo", "cio"], ["cfo"]]
    assert infer_terms(np.zeros((1, 4)), protos, [], 0.05) == [[]]


def test_several_prototypes_per_class_take_the_best():
    protos = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    model = ZeroShotClassifier(protos, ["a", "b"], prototype_class=[0, 1, 0]).fit(np.eye(3))
    assert model.predict(np.eye(3)).tolist() == ["a", "b", "a"]
    with pytest.raises(ValueError, match="at least one prototype"):
        ZeroShotClassifier(protos, ["a", "b", "c"], prototype_class=[0, 1, 0]).fit(np.eye(3))


def test_extra_columns_add_a_type_prior():
    protos = np.eye(2, 3, dtype=np.float32)
    x = _unit([[1.0, 0.9, 0.0]])  # content leans to class 0
    prior = np.array([[0.0, 0.5]], dtype=np.float32)  # the one type favours class 1
    model = ZeroShotClassifier(protos, ["a", "b"], extra_scores=prior).fit(x)
    assert model.predict(x).tolist() == ["a"]
    with_type = np.hstack([x, [[1.0]]])
    assert model.predict(with_type).tolist() == ["b"]


def test_description_phrases_and_type_affinity():
    phrases = description_phrases("Decision", "Closing content: pricing sheets, proposals.")
    assert phrases == ["Decision. Closing content: pricing sheets, proposals.",
                       "Closing content", "pricing sheets", "proposals"]
    stage_protos = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    affinity = type_stage_affinity(np.array([[0, 1]], np.float32), stage_protos,
                                   np.array([0, 1, 0]), 2)
    np.testing.assert_allclose(affinity, [[0.8, 1.0]])
