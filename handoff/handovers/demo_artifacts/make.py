"""Make the demo's evidence: a real, small ONNX export and its predictions.

A scikit-learn logistic regression on the breast-cancer data set that ships
inside scikit-learn (no download), exported with skl2onnx; its predictions
and scores on the 171-row validation split, the split's labels with a
``size`` slice column, and what the validation engine should measure
(``expected.json``, with scikit-learn as the oracle). ``seed_demo`` and the
test factories use these files; run this script again (dev dependencies
installed) only to change them:

    .venv/bin/python handoff/handovers/demo_artifacts/make.py
"""

import csv
import json
from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent


def main():
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, data.target, test_size=0.3, random_state=0)
    model = LogisticRegression(max_iter=5000, random_state=0).fit(x_train, y_train)
    onnx_model = to_onnx(model, x_train[:1], target_opset=17, options={id(model): {"zipmap": False}})
    (HERE / "model.onnx").write_bytes(onnx_model.SerializeToString())

    predicted = model.predict(x_test)
    score = model.predict_proba(x_test)[:, 1]
    # Ids are not row numbers, and the two files list them in different orders.
    ids = [7 * n + 3 for n in range(len(y_test))]
    # A slice column for the fairness check: tumours above the median mean radius.
    size = np.where(x_test[:, 0] > np.median(x_test[:, 0]), "large", "small")
    with open(HERE / "predictions.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "prediction", "score"])
        for n in reversed(range(len(ids))):
            writer.writerow([ids[n], int(predicted[n]), repr(float(score[n]))])
    with open(HERE / "labels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label", "size"])
        for n in range(len(ids)):
            writer.writerow([ids[n], int(y_test[n]), size[n]])

    by_slice = {name: float(accuracy_score(y_test[size == name], predicted[size == name]))
                for name in ("large", "small")}
    expected = {
        "rows": len(ids),
        "parameters": int(model.coef_.size + model.intercept_.size),
        "accuracy": float(accuracy_score(y_test, predicted)),
        "precision": float(precision_score(y_test, predicted)),
        "recall": float(recall_score(y_test, predicted)),
        "f1": float(f1_score(y_test, predicted)),
        "roc_auc": float(roc_auc_score(y_test, score)),
        "log_loss": float(log_loss(y_test, score)),
        "accuracy_by_size": by_slice,
        "accuracy_gap_by_size": max(by_slice.values()) - min(by_slice.values()),
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
