"""Web forms (Flask-WTF: CSRF on every one). Validation of meaning lives in the services; these
only shape the input."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, HiddenField, PasswordField, SelectChoice, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional

PRACTICE_LANGUAGES = {"en": "English", "fr": "Français"}
LANGUAGE_CHOICES = [SelectChoice(value=code, label=label, render_kw={"lang": code})
                    for code, label in PRACTICE_LANGUAGES.items()]


class LicenseMixin:
    agree_license = BooleanField(_l("I release my contribution under CC BY-SA 4.0"))


class PracticeForm(LicenseMixin, FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address (optional)"), validators=[Optional(), Length(max=80)])
    summary = StringField(_l("Summary"), validators=[Optional(), Length(max=500)])
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    tags = StringField(_l("Tags (comma-separated)"), validators=[Optional(), Length(max=1000)])
    body = TextAreaField(_l("Practice (Markdown)"))
    message = StringField(_l("Describe your change"), validators=[Optional(), Length(max=500)])
    base_revision = HiddenField()


class ImportForm(LicenseMixin, FlaskForm):
    files = MultipleFileField(_l("Markdown files (.md) or zip archives"))


class RevertForm(LicenseMixin, FlaskForm):
    revision = HiddenField(validators=[DataRequired()])


class RenameForm(LicenseMixin, FlaskForm):
    new_slug = StringField(_l("New address"), validators=[DataRequired(), Length(max=80)])


class StewardForm(LicenseMixin, FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])


class ForkForm(LicenseMixin, FlaskForm):
    title = StringField(_l("Title of your fork (optional)"),
                        validators=[Optional(), Length(max=200)])
    slug = StringField(_l("Address (optional)"), validators=[Optional(), Length(max=80)])


class SyncForm(LicenseMixin, FlaskForm):
    """Sync a fork; after a conflict, also the text the stewards resolved and the upstream
    revision they resolved it against."""
    resolved_body = TextAreaField(_l("Resolved text (Markdown)"))
    upstream_revision = HiddenField()


class ProposeForm(FlaskForm):
    title = StringField(_l("Title of your proposal"),
                        validators=[DataRequired(), Length(max=200)])
    message = TextAreaField(_l("What you changed and why (Markdown, optional)"),
                            validators=[Optional(), Length(max=20_000)])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment (Markdown)"),
                         validators=[DataRequired(), Length(max=20_000)])


class AcceptForm(LicenseMixin, FlaskForm):
    """The revisions the reviewer looked at; after a conflict, the text they resolved."""
    fork_revision = HiddenField(validators=[DataRequired()])
    upstream_revision = HiddenField(validators=[DataRequired()])
    resolved_body = TextAreaField(_l("Resolved text (Markdown)"))


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Why you decline it"),
                           validators=[DataRequired(), Length(max=20_000)])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=40)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=100)])
    email = StringField(_l("Email (optional, never shown unless you choose)"),
                        validators=[Optional(), Length(max=254)])
    password = PasswordField(_l("Password (at least 8 characters)"), validators=[DataRequired()])


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    email_public = BooleanField(_l("Sign my contributions with my email address"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password, to confirm"), validators=[DataRequired()])
    confirm = BooleanField(_l("I understand my account will be deleted and my contributions "
                              "will stay, credited to a pseudonym"),
                           validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A form with nothing but its CSRF token (sign-out)."""


class RemoveForm(FlaskForm):
    """Remove a practice: the reason is required and shown on its page from then on."""
    reason = StringField(_l("Why it is removed (shown on its page)"),
                         validators=[DataRequired(), Length(max=500)])


class RestoreForm(LicenseMixin, FlaskForm):
    pass


class BlockForm(FlaskForm):
    reason = StringField(_l("Why this account is blocked (the person sees it)"),
                         validators=[DataRequired(), Length(max=500)])
    include_admin = BooleanField(_l("Yes, block this administrator's account"))


class RevertSinceForm(LicenseMixin, FlaskForm):
    since = StringField(_l("Every change made since (a date such as 2026-03-01, UTC)"),
                        validators=[DataRequired(), Length(max=40)])
    reason = StringField(_l("Reason (in the commit, and for the proposals declined)"),
                         validators=[DataRequired(), Length(max=500)])
