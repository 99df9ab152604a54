package jhot.sample.shop.owner;

import jakarta.validation.Valid;
import jhot.sample.shop.owner.Views.OwnerSummary;
import jhot.sample.shop.owner.Views.OwnerView;
import jhot.sample.shop.owner.Views.VisitView;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import java.util.List;
import java.util.function.Supplier;

/** The JSON API for owners, pets and visits. */
@RestController
@RequestMapping("/api")
public class OwnerApiController {
    private final OwnerService service;

    public OwnerApiController(OwnerService service) {
        this.service = service;
    }

    @GetMapping("/owners")
    public List<OwnerSummary> owners(@RequestParam(name = "lastName", defaultValue = "") String lastName) {
        return service.find(lastName);
    }

    @GetMapping("/owners/{id}")
    public OwnerView owner(@PathVariable("id") int id) {
        return service.view(id).orElseThrow(notFound("owner", id));
    }

    @PostMapping("/owners")
    public ResponseEntity<OwnerView> create(@Valid @RequestBody OwnerForm form) {
        OwnerView created = service.create(form);
        var location = ServletUriComponentsBuilder.fromCurrentRequest().path("/{id}").buildAndExpand(created.id()).toUri();
        return ResponseEntity.created(location).body(created);
    }

    @PostMapping("/pets/{petId}/visits")
    @ResponseStatus(HttpStatus.CREATED)
    public VisitView addVisit(@PathVariable("petId") int petId, @Valid @RequestBody VisitForm form) {
        return service.addVisit(petId, form).orElseThrow(notFound("pet", petId));
    }

    @GetMapping("/pettypes")
    public List<String> petTypes() {
        return service.petTypes();
    }

    private static Supplier<ResponseStatusException> notFound(String what, int id) {
        return () -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no " + what + " " + id);
    }
}
