"""Make the candidates' evidence: three real, small ONNX exports measured on
the same validation split as the handover demo (``handovers/demo_artifacts``,
whose ``labels.csv`` the contract holds).

* ``logreg``: the handover demo's logistic regression (31 parameters);
* ``scaled-logreg``: a standard scaler and a logistic regression in one
  pipeline (91 parameters);
* ``mlp``: a small neural network, as accurate, but with 513 parameters, over
  a budget of 100.

``expected.json`` holds what the validation engine should measure for each,
with scikit-learn as the oracle. ``seed_demo`` and the tests use these files;
run this script again (dev dependencies installed) only to change them:

    .venv/bin/python handoff/contracts/demo_artifacts/make.py
"""

import csv
import json
import shutil
from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent
HANDOVER_DEMO = HERE.parent.parent / "handovers" / "demo_artifacts"


def _parameters(model):
    """Learned values, as scikit-learn holds them (the oracle for model.parameters)."""
    if hasattr(model, "steps"):
        return sum(_parameters(step) for _, step in model.steps)
    if hasattr(model, "mean_"):  # StandardScaler
        return int(model.mean_.size + model.scale_.size)
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    return int(model.coef_.size + model.intercept_.size)


def main():
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.3, random_state=0)
    ids = [7 * n + 3 for n in range(len(y_test))]  # as in the handover demo's labels.csv
    models = {
        "logreg": LogisticRegression(max_iter=5000, random_state=0),
        "scaled-logreg": make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000, random_state=0)
        ),
        "mlp": make_pipeline(
            StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0)
        ),
    }
    expected = {}
    for name, model in models.items():
        model.fit(x_train, y_train)
        exported = to_onnx(model, x_train[:1], target_opset=17, options={id(model): {"zipmap": False}})
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "model.onnx").write_bytes(exported.SerializeToString())
        predicted = model.predict(x_test)
        score = model.predict_proba(x_test)[:, 1]
        with open(folder / "predictions.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "prediction", "score"])
            for n in range(len(ids)):
                writer.writerow([ids[n], int(predicted[n]), repr(float(score[n]))])
        expected[name] = {
            "parameters": _parameters(model),
            "accuracy": float(accuracy_score(y_test, predicted)),
            "f1": float(f1_score(y_test, predicted)),
            "roc_auc": float(roc_auc_score(y_test, score)),
        }
    shutil.copyfile(HANDOVER_DEMO / "labels.csv", HERE / "labels.csv")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
