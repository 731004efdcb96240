"""Nightly customer follow-up pipeline for an auto-parts shop's Excel register."""
