"""Every mapped class, imported once so metadata and relationships are complete."""
from registry.models.audit import AuditEntry
from registry.models.facility import Facility
from registry.models.abstracting import AbstractEditStatus, ApiToken, PatientNameKey, SuspenseCase, SuspenseStatus
from registry.models.casefinding import CasefindingReport
from registry.models.job import Job, JobStatus
from registry.models.patient import FollowUpContact, FollowUpTumorStatus, Patient
from registry.models.reference import ReferenceInstall
from registry.models.research import DataUseAgreement, ResearchRelease, ResearchStudyKey
from registry.models.submission import Submission, SubmissionLeftOut, SubmissionTumor
from registry.models.tumor import FirstCourseTreatment, Tumor, WorkflowState
from registry.models.user import PHI_ROLES, LoginThrottle, Role, User

__all__ = ["AbstractEditStatus", "ApiToken", "AuditEntry", "CasefindingReport", "DataUseAgreement", "Facility",
           "FirstCourseTreatment",
           "FollowUpContact", "FollowUpTumorStatus", "Job", "JobStatus", "LoginThrottle", "PHI_ROLES", "Patient", "PatientNameKey",
           "ReferenceInstall", "ResearchRelease", "ResearchStudyKey", "Role", "Submission", "SubmissionLeftOut", "SubmissionTumor",
           "SuspenseCase", "SuspenseStatus", "Tumor", "User", "WorkflowState"]
