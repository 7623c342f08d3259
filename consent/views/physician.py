"""The physician's workspace: dashboard, review, attestation, countersignature, the record.

(Being written: every view below is filled in by the physician-workspace work.)
"""
