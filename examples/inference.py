# The seed tutorial's inference.py, unchanged: SageMaker's scikit-learn container (and
# jupyter_smops' local endpoints) call these four functions.
import joblib
import os
import json


def model_fn(model_dir):
    """Load model from model directory"""
    model = joblib.load(os.path.join(model_dir, "iris-model.pkl"))
    return model


def input_fn(request_body, request_content_type):
    """Process input data"""
    data = json.loads(request_body)
    return data["instances"]


def predict_fn(input_data, model):
    """Make predictions"""
    return model.predict(input_data)


def output_fn(prediction, content_type):
    """Format output"""
    return json.dumps({"predictions": prediction.tolist()})
