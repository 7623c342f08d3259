"""The patient's decision on their own device: consent or informed refusal, and companions.

(Being written.)
"""
