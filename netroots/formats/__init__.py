"""Date and time formats that replace the locale's (FORMAT_MODULE_PATH in settings): 24-hour clock times."""
