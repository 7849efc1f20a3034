"""The CQI breakdown names its components in words, as the rest of the page does."""

from icc_app.quality.schemas import component_read


def test_component_names_read_as_words():
    assert component_read({"name": "potency", "score": 80, "weight": 0.3}).name == "Potency"
    assert component_read({"name": "predicted_price", "score": 50, "weight": 1.0}).name == "Predicted price"
