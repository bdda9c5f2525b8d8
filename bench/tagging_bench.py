"""Stage auto-tagging accuracy on the marketer-labelled sample assets, cross-validated.

Ingests ``content_library/`` with the real model into a temporary database (or reads an
existing one with ``--database``), takes the assets whose stage the marketer gave, and reports
stratified k-fold accuracy of: the majority class (baseline), the zero-shot (stage description
phrases + type prior; it learns nothing from the labels, so its accuracy on every fold is
out-of-sample), logistic regression and kNN on embedding + one-hot type, and which one the
``LabelTagger`` picks. Also the zero-shot's calibration: mean confidence vs accuracy.

Run: ``python bench/tagging_bench.py [--model all-MiniLM-L6-v2] [--database URL]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sklearn.base import clone  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.ingest_bench import git_commit  # noqa: E402
from models import Asset  # noqa: E402
from recommender.content.classifiers import ZeroShotClassifier, _candidates  # noqa: E402
from recommender.content.embedding import load_embedder  # noqa: E402
from recommender.content.tagging import TEMPERATURE, type_features  # noqa: E402
from web.config import Settings  # noqa: E402
from web.runtime import Baton  # noqa: E402
from web.services.content import ingest as library  # noqa: E402
from web.services.content.tagging import fit_taggers, prototypes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--database", default="")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    embedder = load_embedder(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({}, instance_path=tmp, embedding_model=args.model,
                                     database_url=args.database)
        baton = Baton(settings, embedder=embedder)
        baton.init_database()
        if not args.database:
            report = library.ingest_paths(baton, [REPO / "content_library"])
            print(f"ingested: {report.summary()}")
        with baton.session() as s:
            rows = s.execute(select(Asset.embedding, Asset.stage, Asset.type)
                             .where(Asset.stage_source == "given",
                                    Asset.status != "retired")
                             .order_by(Asset.id)).all()  # the tagger's order: same folds
            tagger = fit_taggers(baton, s, embedder.name).stage
        protos = prototypes(baton)
        baton.close()
    names, stage_vecs, owner, affinity = protos["stage"]
    type_names = protos["type"][0]
    X = type_features(np.array([np.frombuffer(r[0], np.float32) for r in rows]),
                      [r[2] for r in rows], type_names)
    y = np.array([r[1] for r in rows])
    counts = Counter(y.tolist())
    folds = StratifiedKFold(n_splits=min(args.folds, min(counts.values())), shuffle=True,
                            random_state=0)
    results = []
    majority = cross_val_score(DummyClassifier(strategy="most_frequent"), X, y, cv=folds)
    results.append(("majority class (baseline)", majority.mean(), majority.std()))
    zero = ZeroShotClassifier(stage_vecs, names, TEMPERATURE, owner, affinity).fit(X)
    per_fold = [np.mean(zero.predict(X[test]) == y[test]) for _, test in folds.split(X, y)]
    results.append(("zero-shot (descriptions + type prior)", np.mean(per_fold),
                    np.std(per_fold)))
    no_prior = ZeroShotClassifier(stage_vecs, names, TEMPERATURE, owner).fit(X)
    results.append(("zero-shot, content only (no type prior)",
                    np.mean(no_prior.predict(X) == y), 0.0))
    for name, estimator in _candidates(0).items():
        scores = cross_val_score(clone(estimator), X, y, cv=folds)
        results.append((f"{name} on embedding + type", scores.mean(), scores.std()))
    proba = zero.predict_proba(X)
    print(f"model {embedder.name}, commit {git_commit()}, {len(y)} labelled assets "
          f"({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), "
          f"{folds.get_n_splits()}-fold stratified CV")
    print("| method | accuracy | sd over folds |")
    print("|---|---|---|")
    for name, mean, sd in results:
        print(f"| {name} | {mean:.3f} | {sd:.3f} |")
    print(f"| LabelTagger picks: {tagger.chosen_} | "
          f"{tagger.cv_accuracy_.get(tagger.chosen_, float('nan')):.3f} | |")
    print(f"zero-shot calibration: mean confidence {proba.max(axis=1).mean():.3f} vs "
          f"accuracy {np.mean(zero.predict(X) == y):.3f}")


if __name__ == "__main__":
    main()
