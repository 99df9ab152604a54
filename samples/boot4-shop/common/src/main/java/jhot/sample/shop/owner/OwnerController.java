package jhot.sample.shop.owner;

import jakarta.validation.Valid;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.validation.BindingResult;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.InitBinder;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;

import java.beans.PropertyEditorSupport;

/** The owner pages: the list (with a search by last name), one owner with pets and visits, and the form for a new one. */
@Controller
public class OwnerController {
    private static final String FORM = "owners/form";

    private final OwnerService service;

    public OwnerController(OwnerService service) {
        this.service = service;
    }

    @InitBinder
    void initBinder(WebDataBinder binder) {
        binder.setDisallowedFields("id");
        // Form fields arrive trimmed, and blank ones as "" (which @NotBlank then rejects).
        binder.registerCustomEditor(String.class, new PropertyEditorSupport() {
            @Override
            public void setAsText(String text) {
                setValue(text == null ? "" : text.strip());
            }
        });
    }

    @GetMapping("/owners")
    public String list(@RequestParam(name = "lastName", defaultValue = "") String lastName, Model model) {
        var owners = service.find(lastName);
        model.addAttribute("lastName", lastName);
        model.addAttribute("owners", owners);
        model.addAttribute("petCount", owners.stream().mapToInt(Views.OwnerSummary::pets).sum());
        return "owners/list";
    }

    @GetMapping("/owners/{id}")
    public String show(@PathVariable("id") int id, Model model) {
        Views.OwnerView owner = service.view(id)
                .orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no owner " + id));
        model.addAttribute("owner", owner);
        model.addAttribute("petTypes", service.petTypes());
        return "owners/details";
    }

    @GetMapping("/owners/new")
    public String newForm(Model model) {
        model.addAttribute("owner", new OwnerForm());
        return FORM;
    }

    @PostMapping("/owners/new")
    public String create(@Valid @ModelAttribute("owner") OwnerForm owner, BindingResult result) {
        if (result.hasErrors()) {
            return FORM;
        }
        return "redirect:/owners/" + service.create(owner).id();
    }
}
