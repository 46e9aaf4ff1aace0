"""Baseline for bench/run.py: the smallest Flask app, served by the same gunicorn settings.

Its requests per second are the ceiling the widget app is compared with, so the
benchmark's figures are ratios that hold on any machine.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
