"""British English formats with a 24-hour clock: Django's en_GB says "2:30 p.m."; organisers read "14:30".

Django reads this module before its own en_GB one (FORMAT_MODULE_PATH); what isn't named here comes from there.
Times are shown in the current time zone (TIME_ZONE, Europe/London). Every page names its own format except the
admin, so this is the admin's: list columns, read-only fields, the history page and the date and time widgets.
"""

TIME_FORMAT = "H:i"  # '14:30'
DATETIME_FORMAT = "j M Y, H:i"  # '25 Oct 2006, 14:30'
SHORT_DATETIME_FORMAT = "d/m/Y H:i"  # '25/10/2006 14:30'

# What organisers may type. The first of each is what the admin's widgets show.
TIME_INPUT_FORMATS = [
    "%H:%M",  # '14:30'
    "%H:%M:%S",  # '14:30:59'
    "%H:%M:%S.%f",  # '14:30:59.000200'
    "%H.%M",  # '14.30'
]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M",  # '25/10/2006 14:30'
    "%d/%m/%Y %H:%M:%S",  # '25/10/2006 14:30:59'
    "%d/%m/%Y %H:%M:%S.%f",  # '25/10/2006 14:30:59.000200'
    "%d/%m/%y %H:%M",  # '25/10/06 14:30'
    "%d/%m/%y %H:%M:%S",  # '25/10/06 14:30:59'
    "%Y-%m-%d %H:%M",  # '2006-10-25 14:30'
    "%Y-%m-%d %H:%M:%S",  # '2006-10-25 14:30:59'
    "%Y-%m-%d %H:%M:%S.%f",  # '2006-10-25 14:30:59.000200'
]
