"""Published benchmark studies, reproduced with skqml.

- :mod:`skqml.studies.bowles2024`: the study of Bowles, Ahmed and Schuld (2024), "Better than
  classical? The subtle art of benchmarking quantum machine learning models".
"""
