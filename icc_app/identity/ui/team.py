"""The team page (members, roles and product access, invitations, the require-MFA policy) and the page an
invited person lands on from the email."""

from __future__ import annotations

import dataclasses
import uuid

import reflex as rx

from icc_app.core.db import unit_of_work
from icc_app.core.errors import DomainError
from icc_app.identity import service as identity
from icc_app.identity import teams
from icc_app.identity.models import Role
from icc_app.identity.permissions import ROLE_RANK, can_manage_member
from icc_app.identity.ui.state import AuthFormState, landing_for
from icc_app.ui import routes
from icc_app.ui.components import card, empty_state, form_alert, labelled_input, labelled_select, page_header
from icc_app.ui.format import label
from icc_app.ui.layout import app_page

ROLE_BY_LABEL = {label(r): r for r in Role}  # the selects and badges show words ("Admin"); handlers map back
ROLES = list(ROLE_BY_LABEL)


def _role(value: str) -> Role:
    """A role from what a select sends (its words) or a stored value."""
    return ROLE_BY_LABEL.get(value) or Role(value)
PRODUCTS = teams.PRODUCTS


def _fmt(value) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


class TeamState(AuthFormState):
    loaded: bool = False
    business_id: str = ""
    business_name: str = ""
    my_role: str = ""
    members: list[dict] = []
    invitations: list[dict] = []
    require_mfa: bool = False
    invite_role: str = label(Role.staff)
    invite_products: list[str] = ["exchange"]
    editing: str = ""  # member id being edited
    edit_role: str = label(Role.staff)
    edit_products: list[str] = []

    def _principal_and_business(self):
        principal, redirect = self.require_principal()
        if redirect:
            return None, None, redirect
        choices = sorted(principal.memberships, key=lambda m: -ROLE_RANK[m.role])
        wanted = self.router.url.query_parameters.get("business")
        membership = next((m for m in choices if str(m.business_id) == wanted), choices[0] if choices else None)
        return principal, membership, None

    def _refresh(self, principal, membership) -> None:
        self.business_id, self.business_name = str(membership.business_id), membership.business_name
        self.my_role, self.require_mfa = membership.role.value, membership.require_mfa
        with unit_of_work() as session:
            members = teams.list_members(session, principal=principal, business_id=membership.business_id)
            invitations = (teams.list_invitations(session, principal=principal, business_id=membership.business_id)
                           if ROLE_RANK[membership.role] >= ROLE_RANK[Role.manager] else [])
        self.members = [{**{k: _fmt(v) if k == "joined_at" else v for k, v in dataclasses.asdict(m).items()},
                         "member_id": str(m.member_id), "user_id": str(m.user_id), "role": m.role.value,
                         "role_label": label(m.role),
                         "products_text": "all products" if m.role == Role.admin else (", ".join(m.products) or "none"),
                         "me": m.user_id == principal.user_id,
                         "manageable": m.user_id != principal.user_id and can_manage_member(membership, m.role)}
                        for m in members]
        self.invitations = [{"id": str(i.id), "email": i.email, "role": i.role.value, "status": i.status,
                             "role_label": label(i.role), "status_label": label(i.status),
                             "products": ", ".join(i.products) or "none", "expires": _fmt(i.expires_at)}
                            for i in invitations]

    @rx.event
    def load(self):
        principal, membership, redirect = self._principal_and_business()
        if redirect:
            return redirect
        self._reset_errors()
        self.editing = ""
        if membership is None:
            return rx.redirect(routes.ONBOARDING)
        self._refresh(principal, membership)
        self.loaded = True

    def _act(self, action, success: str):
        principal, membership, redirect = self._principal_and_business()
        if redirect:
            return redirect
        try:
            with unit_of_work() as session:
                action(session, principal, membership)
        except DomainError as exc:
            self._fail(exc)
            return rx.toast.error(exc.message)
        fresh = self.principal()
        self._apply(fresh)
        self._refresh(fresh, fresh.membership(membership.business_id) or membership)
        return rx.toast.success(success)

    @rx.event
    def set_invite_role(self, value: str):
        if value in ROLE_BY_LABEL:
            self.invite_role = value

    @rx.event
    def toggle_invite_product(self, product: str, checked: bool):
        chosen = set(self.invite_products)
        chosen.add(product) if checked else chosen.discard(product)
        self.invite_products = sorted(chosen)

    @rx.event
    def invite(self, form: dict):
        self._reset_errors()
        email = (form.get("email") or "").strip()
        if not email:
            self.errors = {"email": "Enter the email address to invite."}
            return
        return self._act(lambda s, p, m: teams.invite(s, principal=p, business_id=m.business_id, email=email,
                                                      role=_role(self.invite_role), products=self.invite_products,
                                                      ip=self.client_ip()),
                         f"Invitation emailed to {email}.")

    @rx.event
    def revoke_invitation(self, invitation_id: str):
        return self._act(lambda s, p, m: teams.revoke_invitation(s, principal=p, invitation_id=uuid.UUID(invitation_id),
                                                                 ip=self.client_ip()), "Invitation withdrawn.")

    @rx.event
    def start_edit(self, member: dict):
        self.editing, self.edit_role = member["member_id"], label(member["role"])
        self.edit_products = [p for p in member["products"] if p in PRODUCTS]  # planned products fall away

    @rx.event
    def cancel_edit(self):
        self.editing = ""

    @rx.event
    def set_edit_role(self, value: str):
        if value in ROLE_BY_LABEL:
            self.edit_role = value

    @rx.event
    def toggle_edit_product(self, product: str, checked: bool):
        chosen = set(self.edit_products)
        chosen.add(product) if checked else chosen.discard(product)
        self.edit_products = sorted(chosen)

    @rx.event
    def save_edit(self):
        member_id = self.editing
        result = self._act(lambda s, p, m: teams.change_member(s, principal=p, member_id=uuid.UUID(member_id),
                                                               role=_role(self.edit_role), products=self.edit_products,
                                                               ip=self.client_ip()), "Team member updated.")
        if not self.form_error:
            self.editing = ""
        return result

    @rx.event
    def remove(self, member_id: str):
        return self._act(lambda s, p, m: teams.remove_member(s, principal=p, member_id=uuid.UUID(member_id),
                                                             ip=self.client_ip()), "Removed from the team.")

    @rx.event
    def set_require_mfa(self, value: bool):
        return self._act(lambda s, p, m: teams.set_require_mfa(s, principal=p, business_id=m.business_id,
                                                               required=value, ip=self.client_ip()),
                         "Two-factor authentication is now " + ("required." if value else "optional."))


def _products_checkboxes(selected: rx.Var, on_toggle) -> rx.Component:
    return rx.flex(
        *[rx.checkbox(teams.PRODUCT_NAMES[p], checked=selected.contains(p),
                      on_change=lambda checked, p=p: on_toggle(p, checked), name=f"product_{p}") for p in PRODUCTS],
        wrap="wrap", spacing="4",
    )


def _member_row(member: rx.Var) -> rx.Component:
    editing = TeamState.editing == member["member_id"].to(str)
    return rx.table.row(
        rx.table.row_header_cell(rx.vstack(rx.text(member["name"], weight="medium"),
                                           rx.text(member["email"], size="1", color_scheme="gray"), spacing="0")),
        rx.table.cell(rx.cond(editing, rx.select(ROLES, value=TeamState.edit_role, on_change=TeamState.set_edit_role,
                                                 aria_label="Role"),
                              rx.badge(member["role_label"].to(str)))),
        rx.table.cell(rx.cond(editing, _products_checkboxes(TeamState.edit_products, TeamState.toggle_edit_product),
                              rx.text(member["products_text"], size="2"))),
        rx.table.cell(rx.cond(member["mfa_enabled"].to(bool), rx.badge("On", color_scheme="green"),
                              rx.badge("Off", color_scheme="gray"))),
        rx.table.cell(member["joined_at"]),
        rx.table.cell(rx.cond(
            member["manageable"].to(bool),
            rx.cond(editing,
                    rx.hstack(rx.button("Save", size="1", on_click=TeamState.save_edit),
                              rx.button("Cancel", size="1", variant="soft", on_click=TeamState.cancel_edit)),
                    rx.hstack(rx.button("Edit", size="1", variant="soft", on_click=TeamState.start_edit(member)),
                              rx.alert_dialog.root(
                                  rx.alert_dialog.trigger(rx.button("Remove", size="1", variant="soft",
                                                                    color_scheme="red")),
                                  rx.alert_dialog.content(
                                      rx.alert_dialog.title("Remove from the team?"),
                                      rx.alert_dialog.description(member["name"].to(str) + " loses access at once."),
                                      rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                                                rx.alert_dialog.action(rx.button(
                                                    "Remove", color_scheme="red",
                                                    on_click=TeamState.remove(member["member_id"].to(str)))),
                                                justify="end", spacing="2", margin_top="1em"),
                                  ),
                              ))),
        )),
    )


def _invite_form() -> rx.Component:
    return card(rx.form(
        rx.vstack(
            rx.heading("Invite someone", size="4", as_="h2"),
            rx.grid(
                labelled_input("Email", "email", TeamState.errors.get("email", ""), type="email",
                               placeholder="name@business.com"),
                labelled_select("Role", "invite_role", rx.cond(TeamState.my_role == "admin", ROLES, [label(Role.staff)]),
                                TeamState.errors.get("role", ""), value=TeamState.invite_role,
                                on_change=TeamState.set_invite_role),
                columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%",
            ),
            rx.text("Product access (Admins have every product)", size="2", weight="medium"),
            _products_checkboxes(TeamState.invite_products, TeamState.toggle_invite_product),
            rx.button("Send invitation", type="submit", id="send-invitation"),
            spacing="3", width="100%", align="start",
        ),
        on_submit=TeamState.invite, reset_on_submit=True,
    ))


def _invitation_row(inv: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(inv["email"]), rx.table.cell(rx.badge(inv["role_label"])), rx.table.cell(inv["products"]),
        rx.table.cell(rx.badge(inv["status_label"], color_scheme=rx.match(inv["status"], ("pending", "amber"),
                                                                    ("accepted", "green"), "gray"))),
        rx.table.cell(inv["expires"]),
        rx.table.cell(rx.cond(inv["status"] == "pending",
                              rx.button("Withdraw", size="1", variant="soft",
                                        on_click=TeamState.revoke_invitation(inv["id"].to(str))))),
    )


def _table(headers: list[str], body: rx.Component) -> rx.Component:
    return rx.table.root(rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
                         rx.table.body(body), width="100%", variant="surface")


@app_page
def team_page() -> rx.Component:
    return rx.vstack(
        page_header("Team", TeamState.business_name),
        rx.cond(~TeamState.loaded, rx.center(rx.spinner(size="3"), padding="3em", width="100%"), rx.vstack(
            form_alert(TeamState.form_error),
            rx.cond(TeamState.my_role == "admin", card(rx.hstack(
                rx.vstack(rx.text("Require two-factor authentication", weight="medium"),
                          rx.text("Members without it are sent to set it up before they can work.", size="2",
                                  color_scheme="gray"), spacing="0", align="start"),
                rx.spacer(),
                rx.switch(checked=TeamState.require_mfa, on_change=TeamState.set_require_mfa,
                          aria_label="Require two-factor authentication"),
                align="center", width="100%"))),
            _table(["Member", "Role", "Products", "MFA", "Joined", ""], rx.foreach(TeamState.members, _member_row)),
            rx.cond(TeamState.my_role != "staff", rx.vstack(
                _invite_form(),
                rx.heading("Invitations", size="4", as_="h2"),
                rx.cond(TeamState.invitations.length() > 0,
                        _table(["Email", "Role", "Products", "Status", "Expires", ""],
                               rx.foreach(TeamState.invitations, _invitation_row)),
                        empty_state("mail", "No invitations yet", "Invite people by email; they join with the role "
                                    "and products you choose.")),
                width="100%", spacing="4",
            )),
            width="100%", spacing="4",
        )),
        width="100%", align="start",
    )


class InviteState(AuthFormState):
    loaded: bool = False
    valid: bool = False
    business: str = ""
    role: str = ""
    email: str = ""
    matches: bool = False

    @rx.event
    def load(self):
        self._reset_errors()
        principal = self.principal()
        self._apply(principal)
        token = self.router.url.query_parameters.get("token", "")
        try:
            with unit_of_work() as session:
                invitation, business = teams.invitation_for_token(session, token=token)
                self.valid, self.business = True, business.dba or business.legal_name
                self.role, self.email = Role(invitation.role).value.title(), invitation.email
                self.matches = principal is not None and principal.email == invitation.email
                self.has_account = identity.find_user_by_email(session, invitation.email) is not None
        except DomainError as exc:
            self.valid, self.form_error = False, exc.message
        self.loaded = True

    has_account: bool = False

    @rx.event
    def accept(self):
        principal = self.principal()
        if principal is None:
            return rx.redirect(routes.login_url(f"{routes.INVITE}?token={self.router.url.query_parameters.get('token', '')}"))
        try:
            with unit_of_work() as session:
                teams.accept_invitation(session, token=self.router.url.query_parameters.get("token", ""),
                                        user_id=principal.user_id, ip=self.client_ip())
        except DomainError as exc:
            self._fail(exc)
            return
        fresh = self.principal()
        self._apply(fresh)
        return [rx.toast.success(f"You joined {self.business}."), rx.redirect(landing_for(fresh, routes.TEAM))]

    @rx.event
    def create_and_accept(self, form: dict):
        """A newcomer: the account is created with the invited email (the link proves it) and joins at once."""
        self._reset_errors()
        if (form.get("password") or "") != (form.get("password_confirm") or ""):
            self.errors = {"password_confirm": "The passwords do not match."}
            return
        token = self.router.url.query_parameters.get("token", "")
        try:
            with unit_of_work() as session:
                user = identity.create_user(session, email=self.email, password=form.get("password", ""),
                                            display_name=form.get("display_name", ""))
                teams.accept_invitation(session, token=token, user_id=user.id, ip=self.client_ip())
                outcome = identity.open_session_for(session, user_id=user.id, ip=self.client_ip(),
                                                    user_agent=self._user_agent())
        except DomainError as exc:
            self._fail(exc)
            return
        return self._signed_in(outcome, f"Welcome to {self.business}.", next_path=routes.TEAM)


def invite_page() -> rx.Component:
    from icc_app.ui.components import centered_card

    new_account = rx.form(rx.vstack(
        rx.text("Create your account to join:", size="2"),
        labelled_input("Email", "invited_email", "", value=InviteState.email, read_only=True),
        labelled_input("Your name", "display_name", InviteState.errors.get("display_name", ""), auto_complete="name"),
        labelled_input("Password", "password", InviteState.errors.get("password", ""), type="password",
                       auto_complete="new-password", hint="At least 10 characters, upper and lower case, a digit."),
        labelled_input("Confirm password", "password_confirm", InviteState.errors.get("password_confirm", ""),
                       type="password"),
        rx.button("Create account and join", type="submit", size="3", width="100%", id="accept-new"),
        rx.text("Already have an account? ", rx.button("Sign in", variant="ghost", type="button", on_click=InviteState.accept), size="2"),
        spacing="3", width="100%",
    ), on_submit=InviteState.create_and_accept, reset_on_submit=False)
    return centered_card(
        rx.heading("Team invitation", size="6", as_="h1"),
        rx.cond(~InviteState.loaded, rx.spinner(size="3"), rx.cond(
            InviteState.valid,
            rx.vstack(
                rx.text("You are invited to join ", rx.text.strong(InviteState.business), " as ",
                        rx.text.strong(InviteState.role), "."),
                form_alert(InviteState.form_error),
                rx.cond(InviteState.matches,
                        rx.button("Accept invitation", size="3", width="100%", on_click=InviteState.accept,
                                  id="accept-invitation"),
                        rx.cond(InviteState.signed_in,
                                rx.callout("You are signed in with another email. Sign out, then open the link again.",
                                           icon="triangle-alert", color_scheme="amber"),
                                rx.cond(InviteState.has_account,
                                        rx.button("Sign in to accept", size="3", width="100%",
                                                  on_click=InviteState.accept),
                                        new_account))),
                spacing="4", width="100%",
            ),
            form_alert(InviteState.form_error, id="invite-error"),
        )),
    )


def register(app: rx.App) -> None:
    app.add_page(team_page, route=routes.TEAM, title="Team | ICC", on_load=TeamState.load)
    app.add_page(invite_page, route=routes.INVITE, title="Invitation | ICC", on_load=InviteState.load)
