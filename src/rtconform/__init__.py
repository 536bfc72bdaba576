"""rtconform: does a system speak DICOM RT the way IHE-RO TRO and its own
conformance statement say it does?"""

__version__ = "0.1.0"
