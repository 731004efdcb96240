"""The statistics the churn stage fits: the purchase model and the spend model.

Pure numerics on plain arrays and the run's state; imports only the spine.
"""
